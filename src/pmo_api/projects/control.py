"""What every project control record (milestone, risk, cost, status report ...) shares:
the column naming its project, and the rule for writing one.

Object rules (issue "project control", API.md roles): every role reads every
project's records; pmo and admin write on every project, a manager only on the
projects they manage, a viewer never. Nothing is added to or changed on an archived
project: it is closed for writing (409 ``project_archived``).
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict, Forbidden
from pmo_api.projects import access
from pmo_api.projects.models import Project
from pmo_api.projects.repository import ProjectRepository


class ProjectRecord:
    """Mixin for a control record's table: the project it belongs to (indexed)."""

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id"), nullable=False, index=True
    )


async def project_for_reading(ctx: ServiceContext, ref: uuid.UUID | str) -> Project:
    """The project a record list is read from (404 when there is none)."""
    return await ProjectRepository(ctx.session).require(ref, ctx.principal)


async def project_for_writing(
    ctx: ServiceContext, ref: uuid.UUID | str, *, lock: bool = False
) -> Project:
    """The project a record is added to or changed on, after the object rules.

    ``lock=True`` takes the project's row lock (PostgreSQL ``FOR UPDATE``; SQLite
    already serialises writers) for writes that keep a project figure consistent with
    its records, such as the actual cost.
    """
    repository = ProjectRepository(ctx.session)
    project = await (repository.require_locked if lock else repository.require)(ref, ctx.principal)
    if not access.can_edit(ctx.principal, project):
        raise Forbidden(
            code="project_forbidden",
            detail="Managers write only on the projects they manage; viewers read only.",
        )
    if project.archived_at is not None:
        raise Conflict(
            code="project_archived",
            detail=f"Project {project.key} is archived: its records can no longer change.",
        )
    return project
