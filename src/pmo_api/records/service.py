"""The use cases every project record type shares, each for the ``RecordType`` it is
given: read one, list one project's, the first page of many projects' (nested GraphQL
connections), create, update, archive, and the declared actions. Both doors call these.

Object rules (API.md roles): every role reads every project's records; writing
follows the declaration's ``access`` on the project (pmo and admin everywhere, a
manager on the projects they manage, a viewer never). Nothing is added to or changed
on an archived project (409 ``project_archived``), nor on an archived record (409
``<entity>_archived``). Every change records the declared event in the caller's
transaction; a write that changes nothing records nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict, Forbidden
from pmo_api.core.pagination import ListParams, Page
from pmo_api.core.schemas import Patch
from pmo_api.db.reads import Row
from pmo_api.db.records import (
    apply_changes,
    archive_record,
    check_version,
    refuse_archived,
    require_reference,
)
from pmo_api.db.repository import pages_of_projects, project_page_request
from pmo_api.events.service import record
from pmo_api.events.types import Event, RecordEvent
from pmo_api.projects.declaration import ProjectRepository
from pmo_api.projects.models import Project
from pmo_api.records.declaration import Action, RecordModel, RecordType
from pmo_api.records.repository import RecordRepository
from pmo_api.resources.service import check_in_order

M = TypeVar("M", bound=RecordModel)
ProjectRef = uuid.UUID | str


def repository(
    ctx: ServiceContext, kind: RecordType[M], *, reading: bool = False
) -> RecordRepository[M]:
    """The record type's repository for this request (derived values for its day);
    ``reading``: for row reads, which open no session when the context reads elsewhere
    (``ctx.reads``)."""
    session = None if reading and ctx.reads is not None else ctx.session
    found: RecordRepository[M] = kind.repository(session, ctx.now.date())
    return found


# -- the project -----------------------------------------------------------------------------


async def project_for_reading(ctx: ServiceContext, ref: ProjectRef) -> Project:
    """The project a record list is read from (404 when there is none)."""
    return await ProjectRepository(ctx.session).require(ref, ctx.principal)


async def project_for_writing(
    ctx: ServiceContext, kind: RecordType[Any], ref: ProjectRef, *, lock: bool = False
) -> Project:
    """The project a record is added to or changed on, after the object rules.

    ``lock=True`` takes the project's row lock (PostgreSQL ``FOR UPDATE``; SQLite
    already serialises writers) for writes that keep a project figure consistent with
    its records, such as the actual cost.
    """
    projects = ProjectRepository(ctx.session)
    project = await (projects.require_locked if lock else projects.require)(ref, ctx.principal)
    if not kind.access.may_write(ctx.principal, project):
        code, detail = kind.access.refusal
        raise Forbidden(code=code, detail=detail)
    if project.archived_at is not None:
        raise Conflict(
            code="project_archived",
            detail=f"Project {project.key} is archived: its records can no longer change.",
        )
    return project


async def record_for_writing(
    ctx: ServiceContext,
    kind: RecordType[M],
    obj: M,
    expected_version: int | None,
    *,
    lock: bool = False,
) -> Project:
    """The project of a record about to change, after the object rules (see
    ``project_for_writing``) and the record's version check. With ``lock=True`` the
    project's row lock is held and the record read afresh under it first, so writers of
    one project queue and a later one sees what an earlier one did."""
    project = await project_for_writing(ctx, kind, obj.project_id, lock=lock)
    if lock:
        await ctx.session.refresh(obj)
    check_version(kind.name, obj, expected_version)
    return project


# -- reads -----------------------------------------------------------------------------------


async def get(ctx: ServiceContext, kind: RecordType[M], record_id: uuid.UUID) -> M:
    """The record (404 ``<entity>_not_found``)."""
    return await repository(ctx, kind).require(record_id, ctx.principal)


async def get_many(ctx: ServiceContext, kind: RecordType[M], ids: Sequence[uuid.UUID]) -> list[M]:
    """Records by id, one statement (DataLoaders); what is not there is left out."""
    return await repository(ctx, kind).get_many(ids, ctx.principal)


async def read(ctx: ServiceContext, kind: RecordType[Any], record_id: uuid.UUID) -> Row:
    """``get`` as a row, for a read-only request (``db/reads.py``): one statement."""
    return await repository(ctx, kind, reading=True).read(ctx.reads, record_id, ctx.principal)


async def read_list(
    ctx: ServiceContext,
    kind: RecordType[Any],
    project_ref: ProjectRef,
    filters: BaseModel,
    params: ListParams,
    *,
    for_json: bool = False,
) -> Page[Row]:
    """One project's records as rows (404 when the project is not there), with cursors
    bound to the project and the filters: two statements, the project's and the page's.
    ``for_json``: rows that only a JSON body prints (``db.reads.Reads.all``)."""
    project = await ProjectRepository.reading(ctx).read(ctx.reads, project_ref, ctx.principal)
    records = repository(ctx, kind, reading=True)
    page = project_page_request(
        project["id"],
        params,
        columns=kind.sortable,
        default_sort=kind.default_sort,
        filters=filters.model_dump(),
    )
    return await records.read_children(ctx.reads, project["id"], filters, page, for_json=for_json)


async def list_records(
    ctx: ServiceContext,
    kind: RecordType[M],
    project_ref: ProjectRef,
    filters: BaseModel,
    params: ListParams,
) -> Page[M]:
    """``read_list`` as records (GraphQL's top-level lists), the same cursors."""
    project = await project_for_reading(ctx, project_ref)
    page = project_page_request(
        project.id,
        params,
        columns=kind.sortable,
        default_sort=kind.default_sort,
        filters=filters.model_dump(),
    )
    return await repository(ctx, kind).children(ctx.principal, project.id, filters, page)


async def pages(
    ctx: ServiceContext,
    kind: RecordType[M],
    project_ids: Sequence[uuid.UUID],
    filters: BaseModel,
    params: ListParams,
) -> dict[uuid.UUID, Page[M]]:
    """A page of each project's records (nested GraphQL connections): one statement for
    all the projects' first pages; each page's cursor continues that project's list."""
    records = repository(ctx, kind)
    return await pages_of_projects(
        project_ids,
        params,
        columns=kind.sortable,
        default_sort=kind.default_sort,
        filters=filters.model_dump(),
        batch=lambda ids, page: records.pages_per_project(
            ctx.principal, ids, page, records.narrowed(filters, page)
        ),
    )


# -- checks every write shares ---------------------------------------------------------------


async def check_references(
    ctx: ServiceContext,
    kind: RecordType[Any],
    values: Mapping[str, Any],
    current: RecordModel | None = None,
) -> None:
    """Each reference sent (and, on a record, changed) names a record that exists and is
    not archived, and that the reference's own rule accepts (else 422)."""
    for spec in kind.references:
        if not spec.written:
            continue  # the server's own (who decided...)
        value = values.get(spec.name)
        if value is None or (current is not None and getattr(current, spec.name) == value):
            continue
        assert spec.refers_to is not None and spec.refers_to.model is not None
        target = spec.refers_to
        found = await require_reference(ctx.session, target.model, value, spec.name, target.entity)
        refusal = target.accept(found) if target.accept is not None else None
        if refusal is not None:
            raise refusal


async def _recorded(
    ctx: ServiceContext, event: RecordEvent, obj: RecordModel, changes: dict[str, Any]
) -> None:
    await record(ctx, Event(event, obj.id, changes, obj.version))


async def _fresh(ctx: ServiceContext, kind: RecordType[M], obj: M) -> M:
    """The record read again after a write when it shows derived values (they follow
    its new state); otherwise the same object."""
    if not kind.derived:
        return obj
    model: Any = kind.model
    stmt = (
        repository(ctx, kind)
        .visible_to(ctx.principal)
        .where(model.id == obj.id)
        .execution_options(populate_existing=True)
    )
    fresh: M = (await ctx.session.scalars(stmt)).one()
    return fresh


# -- writes ----------------------------------------------------------------------------------


async def create(
    ctx: ServiceContext, kind: RecordType[M], project_ref: ProjectRef, data: BaseModel
) -> M:
    """A new record of the project, with its creation event."""
    values = data.model_dump()
    check_in_order(kind, values)
    project = await project_for_writing(ctx, kind, project_ref, lock=kind.rules.lock_project)
    await kind.rules.creating(ctx, project, values)
    await check_references(ctx, kind, values)
    parent = {kind.parent.column: project.id}
    model: Any = kind.model
    obj: M = model(**values, **parent, created_at=ctx.now, updated_at=ctx.now)
    ctx.session.add(obj)
    await ctx.session.flush()
    await record(ctx, Event.created(kind.created_event, obj.id, {**values, **parent}, obj.version))
    await kind.rules.created(ctx, project, obj)
    return await _fresh(ctx, kind, obj)


async def update(
    ctx: ServiceContext,
    kind: RecordType[M],
    record_id: uuid.UUID,
    patch: Patch,
    expected_version: int | None,
) -> M:
    """The sent fields applied; an event of what really changed (none: nothing)."""
    obj = await get(ctx, kind, record_id)
    project = await record_for_writing(
        ctx, kind, obj, expected_version, lock=kind.rules.lock_project
    )
    refuse_archived(kind.name, obj)
    values = patch.changes()
    await kind.rules.updating(ctx, obj, values)
    await check_references(ctx, kind, values, obj)
    changes = apply_changes(ctx, obj, values)
    check_in_order(kind, obj)
    if changes:
        await ctx.session.flush()
        await _recorded(ctx, kind.updated_event, obj, changes)
        await kind.rules.updated(ctx, project, obj, changes)
    return await _fresh(ctx, kind, obj)


async def archive(
    ctx: ServiceContext, kind: RecordType[M], record_id: uuid.UUID, expected_version: int | None
) -> M:
    """The record archived: readable by id, no longer listed."""
    obj = await get(ctx, kind, record_id)
    project = await record_for_writing(
        ctx, kind, obj, expected_version, lock=kind.rules.lock_project
    )
    await kind.rules.archiving(ctx, obj)
    changes = archive_record(ctx, kind.name, obj)
    await ctx.session.flush()
    await _recorded(ctx, kind.archived_event, obj, changes)
    await kind.rules.archived(ctx, project, obj)
    return await _fresh(ctx, kind, obj)


async def act(
    ctx: ServiceContext,
    kind: RecordType[M],
    action: Action[M],
    record_id: uuid.UUID,
    body: BaseModel | None,
    expected_version: int | None,
) -> M:
    """A declared action on a record (see ``Action``)."""
    obj = await get(ctx, kind, record_id)
    if action.allowed is not None and not action.allowed(ctx.principal):
        code, detail = action.refusal
        raise Forbidden(code=code, detail=detail)
    project = await record_for_writing(
        ctx, kind, obj, expected_version, lock=action.lock_project or kind.rules.lock_project
    )
    refuse_archived(kind.name, obj)
    await action.run(ctx, obj, project, body, kind.event(action.event))
    return await _fresh(ctx, kind, obj)
