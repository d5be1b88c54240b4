"""What is a project's own behaviour (its use cases are every resource's:
``resources/service.py``): who may create, change and archive which project, the
manager handed over only by the PMO, the current baseline one of its own."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import ErrorDetail, Forbidden, InvalidInput
from pmo_api.db.records import referenced_table
from pmo_api.projects import access
from pmo_api.projects.models import Project
from pmo_api.resources.declaration import ResourceRules


class ProjectRules(ResourceRules[Project]):
    """Object rules (API.md roles): pmo and admin change every project; a manager
    creates and changes only the projects they manage, and never hands one to another
    manager; only pmo and admin archive."""

    async def creating(self, ctx: ServiceContext, values: dict[str, Any]) -> Mapping[str, Any]:
        if not access.can_create(ctx.principal, values.get("manager_id")):
            raise Forbidden(
                code="project_forbidden",
                detail="Managers create only projects they manage (manager_id = their person id).",
            )
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
        if values.get("baseline_id") is not None:
            await _check_baseline(ctx, obj, values["baseline_id"])


async def _check_baseline(ctx: ServiceContext, project: Project, baseline_id: Any) -> None:
    # The table the project's baseline_id points at; a baseline names its project like
    # every control record (records.models.ProjectRecord).
    baselines = referenced_table(Project.baseline_id)
    own = select(baselines.c.id).where(
        baselines.c.id == baseline_id, baselines.c.project_id == project.id
    )
    if await ctx.session.scalar(own) is None:
        raise InvalidInput(
            code="baseline_not_found",
            detail=f"baseline_id: project {project.key} has no baseline {baseline_id}.",
            errors=[
                ErrorDetail(("body", "baseline_id"), "not a baseline of the project", "value_error")
            ],
        )
