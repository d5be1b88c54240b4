"""What every project control record (milestone, risk, cost, status report ...) shares:
the column naming its project, the rule for writing one, and the steps of adding,
changing and archiving one (each recording its event).

Object rules (issue "project control", API.md roles): every role reads every
project's records; pmo and admin write on every project, a manager only on the
projects they manage, a viewer never. Nothing is added to or changed on an archived
project: it is closed for writing (409 ``project_archived``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import ForeignKey, Select
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column

from pmo_api.core.context import Principal, ServiceContext
from pmo_api.core.errors import Conflict, Forbidden
from pmo_api.core.pagination import ListParams, Page, PageRequest
from pmo_api.core.schemas import ListFilter
from pmo_api.db.records import archive_record, check_version
from pmo_api.db.repository import Repository, pages_of_projects, project_page_request
from pmo_api.events.service import record
from pmo_api.events.types import Event, EventType
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


RowT = TypeVar("RowT")
FilterT = TypeVar("FilterT", bound=ListFilter)
FilterT_contra = TypeVar("FilterT_contra", bound=ListFilter, contravariant=True)


class ProjectRecordList(Protocol[RowT, FilterT_contra]):
    """A repository's list of one project's records."""

    @property
    def sortable(self) -> Mapping[str, InstrumentedAttribute[Any]]: ...

    async def list(
        self,
        principal: Principal,
        project_id: uuid.UUID,
        filters: FilterT_contra,
        page: PageRequest,
    ) -> Page[RowT]: ...


async def list_project_records(
    ctx: ServiceContext,
    repository: ProjectRecordList[RowT, FilterT],
    project_ref: uuid.UUID | str,
    filters: FilterT,
    params: ListParams,
    *,
    default_sort: str,
) -> Page[RowT]:
    """One project's records (404 when the project is not there), with cursors bound to
    the project and the filters."""
    project = await project_for_reading(ctx, project_ref)
    page = project_page_request(
        project.id,
        params,
        columns=repository.sortable,
        default_sort=default_sort,
        filters=filters.model_dump(),
    )
    return await repository.list(ctx.principal, project.id, filters, page)


async def project_record_pages(
    ctx: ServiceContext,
    repository: Repository[RowT],
    project_ids: Sequence[uuid.UUID],
    params: ListParams,
    *,
    default_sort: str,
    filters: ListFilter,
    narrow: Callable[[Select[Any]], Select[Any]] | None = None,
) -> dict[uuid.UUID, Page[RowT]]:
    """A page of each project's records (for nested GraphQL connections), in one
    statement; ``filters`` are the list's, ``narrow`` their conditions (by default:
    not archived)."""
    return await pages_of_projects(
        project_ids,
        params,
        columns=repository.sortable,
        default_sort=default_sort,
        filters=filters.model_dump(),
        batch=lambda ids, page: repository.pages_per_project(ctx.principal, ids, page, narrow),
    )


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


class _Identified(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


class _Record(_Identified, Protocol):
    @property
    def project_id(self) -> uuid.UUID: ...

    version: int


RecordT = TypeVar("RecordT", bound=_Record)


async def add_record(
    ctx: ServiceContext,
    model: Callable[..., RecordT],
    project: Project,
    event_type: EventType,
    values: Mapping[str, Any],
) -> RecordT:
    """A new record of ``project`` with ``values``, flushed, and its creation event."""
    obj = model(**values, project_id=project.id, created_at=ctx.now, updated_at=ctx.now)
    ctx.session.add(obj)
    await ctx.session.flush()
    await record(ctx, Event.created(event_type, obj.id, {**values, "project_id": project.id}))
    return obj


async def record_for_writing(
    ctx: ServiceContext,
    entity: str,
    obj: _Record,
    expected_version: int | None,
    *,
    lock: bool = False,
) -> Project:
    """The project of a record about to change, after the object rules (see
    ``project_for_writing``) and the record's version check. With ``lock=True`` the
    project's row lock is held and the record read afresh under it first, so writers of
    one project queue and a later one sees what an earlier one did."""
    project = await project_for_writing(ctx, obj.project_id, lock=lock)
    if lock:
        await ctx.session.refresh(obj)
    check_version(entity, obj, expected_version)
    return project


async def save_changes(
    ctx: ServiceContext, obj: _Identified, event_type: EventType, changes: dict[str, Any]
) -> None:
    """Flush a record's applied changes and record their event; nothing when nothing
    really changed."""
    if changes:
        await ctx.session.flush()
        await record(ctx, Event(event_type, obj.id, changes))


async def archive_project_record(
    ctx: ServiceContext, entity: str, obj: _Record, event_type: EventType
) -> None:
    """Archive a record (readable by id, no longer listed) and record the event."""
    changes = archive_record(ctx, entity, obj)
    await ctx.session.flush()
    await record(ctx, Event(event_type, obj.id, changes))
