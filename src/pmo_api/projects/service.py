"""What is a project's own behaviour (its use cases are every resource's:
``resources/service.py``): who may create, change and archive which project, the
manager handed over only by the PMO, the current baseline one of its own, the phase one
of its methodology's."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import select

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict, ErrorDetail, Forbidden, InvalidInput
from pmo_api.db.records import reference_not_found, referenced_table
from pmo_api.projects import access
from pmo_api.projects.models import Project, follow_baseline
from pmo_api.resources.declaration import ResourceRules


class Templates(Protocol):
    """How a project is made from a template: a standard, declared above projects, so
    bound here from above (``control.py``)."""

    async def expand(self, ctx: ServiceContext, data: Any) -> Any:
        """The create body completed from the template it names."""

    async def instantiate(self, ctx: ServiceContext, project: Mapping[str, Any], data: Any) -> None:
        """The template's records added to the new project."""


class ProjectRules(ResourceRules[Project]):
    """Object rules (API.md roles): pmo and admin change every project; a manager
    creates and changes only the projects they manage, and never hands one to another
    manager; only pmo and admin archive. A project made from a template takes it from
    ``templates``."""

    templates: Templates | None = None

    def bind_templates(self, templates: Templates) -> None:
        self.templates = templates

    async def expanding(self, ctx: ServiceContext, data: Any) -> Any:
        if getattr(data, "template", None) is None:
            return data
        assert self.templates is not None, "control.py binds the templates"
        return await self.templates.expand(ctx, data)

    async def created(self, ctx: ServiceContext, row: Mapping[str, Any], data: Any) -> None:
        if getattr(data, "template", None) is not None:
            assert self.templates is not None
            await self.templates.instantiate(ctx, row, data)

    async def creating(self, ctx: ServiceContext, values: dict[str, Any]) -> Mapping[str, Any]:
        if not access.can_create(ctx.principal, values.get("manager_id")):
            raise Forbidden(
                code="project_forbidden",
                detail="Managers create only projects they manage (manager_id = their person id).",
            )
        if values.get("template") is not None:  # the revision ``expanding`` resolved
            values["template_id"] = uuid.UUID(values["template"])
        if values.get("methodology_id") is not None:
            # Written into the values, so the creation's event shows them too.
            followed = await _methodology(ctx, values["methodology_id"])
            values["methodology"] = followed.key
            values["phase"] = _phase_in(followed, values.get("phase"))
        return {"actual_cost": Decimal("0.00")}

    def may_change(self, ctx: ServiceContext, obj: Project) -> None:
        if not access.can_edit(ctx.principal, obj):
            raise Forbidden(
                code="project_forbidden", detail="Managers change only their own projects."
            )

    def may_archive(self, ctx: ServiceContext, obj: Project) -> None:
        if not access.can_archive(ctx.principal, obj):
            raise Forbidden(
                code="project_forbidden", detail="Only pmo and admin keys archive projects."
            )

    async def updating(self, ctx: ServiceContext, obj: Project, values: dict[str, Any]) -> None:
        if (
            "manager_id" in values
            and values["manager_id"] != obj.manager_id
            and not access.can_reassign_manager(ctx.principal)
        ):
            raise Forbidden(
                code="manager_reassign_forbidden",
                detail="Only pmo and admin keys hand a project to another manager.",
            )
        if "baseline_id" in values:
            await _follow_baseline(ctx, obj, values["baseline_id"])
        await _follow_methodology(ctx, obj, values)


async def _follow_methodology(ctx: ServiceContext, obj: Project, values: dict[str, Any]) -> None:
    """A project moved to another methodology revision keeps its phase when the new one
    has it (else it names one in the same change); while it follows one, its phase
    changes by transitions only."""
    moved = "methodology_id" in values and values["methodology_id"] != obj.methodology_id
    if moved and values["methodology_id"] is not None:
        followed = await _methodology(ctx, values["methodology_id"])
        values["methodology"] = followed.key
        values["phase"] = _phase_in(followed, values.get("phase", obj.phase))
        return
    following = obj.methodology_id is not None and not moved
    if following and "phase" in values and values["phase"] != obj.phase:
        raise Conflict(
            code="phase_by_transition",
            detail=f"{obj.key} follows a methodology: its phase changes by POST "
            f"/api/v1/projects/{obj.key}/transitions, where the gate is checked.",
        )
    if following and "methodology" in values and values["methodology"] != obj.methodology:
        raise Conflict(
            code="methodology_by_reference",
            detail=f"{obj.key} follows a methodology revision: change methodology_id to move "
            "it (or set it to null first).",
        )


async def _methodology(ctx: ServiceContext, methodology_id: Any) -> Any:
    """The revision named, which must be in force (published)."""
    methodologies = referenced_table(Project.methodology_id)
    found = (
        await ctx.session.execute(
            select(
                methodologies.c.key,
                methodologies.c.revision,
                methodologies.c.status,
                methodologies.c.phases,
            ).where(methodologies.c.id == methodology_id, methodologies.c.archived_at.is_(None))
        )
    ).one_or_none()
    if found is None:
        raise reference_not_found("methodology_id", "methodology", methodology_id)
    if found.status != "published":
        raise InvalidInput(
            code="methodology_not_published",
            detail=f"methodology_id: {methodology_id} is a {found.status} revision of "
            f"{found.key}; a project follows a published revision.",
            errors=[
                ErrorDetail(
                    ("body", "methodology_id"), "not a published methodology", "value_error"
                )
            ],
        )
    return found


def phase_index(methodology: Any, name: str, field: str = "phase") -> int:
    """Where the phase ``name`` stands in the methodology revision (its row or record:
    ``key``, ``revision``, ``phases``); 422 ``unknown_phase`` at ``field`` when it has none
    of that name. Transitions and gate reviews ask it too (``lifecycle``)."""
    names = [p["name"] for p in methodology.phases]
    if name not in names:
        raise InvalidInput(
            code="unknown_phase",
            detail=f"{field}: {name!r} is not a phase of {methodology.key} (revision "
            f"{methodology.revision}): one of {', '.join(names)}.",
            errors=[
                ErrorDetail(("body", field), f"not a phase of {methodology.key}", "value_error")
            ],
        )
    return names.index(name)


def _phase_in(methodology: Any, phase: str | None) -> str:
    """``phase`` when the methodology has it; the first phase when none is given."""
    if phase is None:
        return str(methodology.phases[0]["name"])
    phase_index(methodology, phase)
    return phase


async def _follow_baseline(ctx: ServiceContext, project: Project, baseline_id: Any) -> None:
    """A baseline of the project (else 422 ``baseline_not_found``), its budget and dates
    kept on the project's row for the rollups (``Project.baseline_budget``)."""
    if baseline_id is None:
        follow_baseline(project, None, None, None)
        return
    # The table the project's baseline_id points at; a baseline names its project like
    # every control record (records.models.ProjectRecord).
    baselines = referenced_table(Project.baseline_id)
    own = select(
        baselines.c.planned_budget, baselines.c.planned_start, baselines.c.planned_end
    ).where(baselines.c.id == baseline_id, baselines.c.project_id == project.id)
    found = (await ctx.session.execute(own)).first()
    if found is not None:
        follow_baseline(project, *found)
    else:
        raise InvalidInput(
            code="baseline_not_found",
            detail=f"baseline_id: project {project.key} has no baseline {baseline_id}.",
            errors=[
                ErrorDetail(("body", "baseline_id"), "not a baseline of the project", "value_error")
            ],
        )
