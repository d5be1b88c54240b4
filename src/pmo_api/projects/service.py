"""Projects: the records every PMO capability reads and enforces standards on."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import ErrorDetail, Forbidden, InvalidInput
from pmo_api.db import writes
from pmo_api.db.reads import Row
from pmo_api.db.records import (
    apply_changes,
    archive_record,
    check_version,
    referenced_table,
)
from pmo_api.db.repository import flush_unique
from pmo_api.events.service import create_recorded, record
from pmo_api.events.types import Event, EventType
from pmo_api.projects import access
from pmo_api.projects.models import Project
from pmo_api.projects.repository import ProjectRepository
from pmo_api.projects.schemas import ProjectCreate, ProjectUpdate

ENTITY = "project"
CREATES = writes.Creates(
    Project.__table__,  # type: ignore[arg-type]
    references=(
        writes.Reference("portfolio_id", "portfolio"),
        writes.Reference("manager_id", "person"),
        writes.Reference("sponsor_id", "person"),
    ),
    entity=ENTITY,
    unique="key",
)


async def get_project(ctx: ServiceContext, ref: uuid.UUID | str) -> Project:
    return await ProjectRepository(ctx.session).require(ref, ctx.principal)


async def read_project(ctx: ServiceContext, ref: uuid.UUID | str) -> Row:
    """``get_project`` as a row, for a read-only request (see ``db.reads``)."""
    return await ProjectRepository.reading(ctx).read(ctx.reads, ref, ctx.principal)


async def get_projects(ctx: ServiceContext, ids: Sequence[uuid.UUID]) -> list[Project]:
    return await ProjectRepository(ctx.session).get_many(ids, ctx.principal)


async def _check_baseline(ctx: ServiceContext, project: Project, baseline_id: uuid.UUID) -> None:
    # The table the project's baseline_id points at; a baseline names its project like
    # every control record (control.ProjectRecord).
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


def _check_dates(project: Project) -> None:
    for what in ("planned", "actual"):
        start, end = getattr(project, f"{what}_start"), getattr(project, f"{what}_end")
        if start is not None and end is not None and end < start:
            raise InvalidInput(
                code="dates_out_of_order",
                detail=f"{what}_end ({end}) is before {what}_start ({start}).",
                errors=[ErrorDetail(("body", f"{what}_end"), "before the start", "value_error")],
            )


async def create_project(ctx: ServiceContext, data: ProjectCreate) -> Row:
    """The new project as a row (its representation); written in one statement where
    the unit of work allows (``db.writes``)."""
    if not access.can_create(ctx.principal, data.manager_id):
        raise Forbidden(
            code="project_forbidden",
            detail="Managers create only projects they manage (manager_id = their person id).",
        )
    return await create_recorded(
        ctx,
        CREATES,
        data.model_dump(),
        EventType.PROJECT_CREATED,
        actual_cost=Decimal("0.00"),
    )


async def update_project(
    ctx: ServiceContext, ref: uuid.UUID | str, patch: ProjectUpdate, expected_version: int | None
) -> Project:
    project = await get_project(ctx, ref)
    if not access.can_edit(ctx.principal, project):
        raise Forbidden(code="project_forbidden", detail="Managers change only their own projects.")
    check_version(ENTITY, project, expected_version)
    values = patch.changes()
    if (
        "manager_id" in values
        and values["manager_id"] != project.manager_id
        and not access.can_reassign_manager(ctx.principal)
    ):
        raise Forbidden(
            code="manager_reassign_forbidden",
            detail="Only pmo and admin keys hand a project to another manager.",
        )
    await writes.check_references(ctx.session, CREATES.table, CREATES.references, values)
    if values.get("baseline_id") is not None:
        await _check_baseline(ctx, project, values["baseline_id"])
    changes = apply_changes(ctx, project, values)
    _check_dates(project)
    if changes:
        await flush_unique(ctx.session, ENTITY, "key")
        await record(ctx, Event(EventType.PROJECT_UPDATED, project.id, changes))
    return project


async def archive_project(
    ctx: ServiceContext, ref: uuid.UUID | str, expected_version: int | None
) -> Project:
    project = await get_project(ctx, ref)
    if not access.can_archive(ctx.principal, project):
        raise Forbidden(
            code="project_forbidden", detail="Only pmo and admin keys archive projects."
        )
    check_version(ENTITY, project, expected_version)
    changes = archive_record(ctx, ENTITY, project)
    await ctx.session.flush()
    await record(ctx, Event(EventType.PROJECT_ARCHIVED, project.id, changes))
    return project
