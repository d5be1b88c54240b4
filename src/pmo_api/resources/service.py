"""The use cases every top-level resource type shares, each for the ``ResourceType``
it is given: read one (by id, or by key when keyed), read many (loaders), list,
create, update, archive. Both doors call these.

Object rules (API.md roles): every role reads; changes follow the declaration's
``writers`` (403 ``refusal`` otherwise). Every change records the declared event in
the caller's transaction; a write that changes nothing records nothing. Versions are
checked (If-Match, ``expectedVersion``: 412 / ``version_mismatch``), references sent
must name live records (422 ``<entity>_not_found``), the unique column answers 409
``duplicate_key``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import ErrorDetail, Forbidden, InvalidInput
from pmo_api.core.pagination import ListParams, Page
from pmo_api.core.schemas import Patch
from pmo_api.db import writes
from pmo_api.db.reads import Row
from pmo_api.db.records import apply_changes, archive_record, check_version
from pmo_api.db.repository import build_page_request, flush_unique
from pmo_api.events.service import create_recorded, record
from pmo_api.events.types import Event
from pmo_api.resources.declaration import Declared, ResourceAction, ResourceType
from pmo_api.resources.fields import Ranked

M = TypeVar("M")
Ref = uuid.UUID | str


def refuse_unless_writer(ctx: ServiceContext, kind: ResourceType[Any]) -> None:
    if not kind.writers.may_write(ctx.principal):
        code, detail = kind.writers.refusal
        raise Forbidden(code=code, detail=detail)


def refuse_unless_reader(ctx: ServiceContext, kind: ResourceType[Any]) -> None:
    """The declaration's ``readers`` (most types: every role reads)."""
    if kind.readers is not None and not kind.readers.may_write(ctx.principal):
        code, detail = kind.readers.refusal
        raise Forbidden(code=code, detail=detail)


# -- reads -----------------------------------------------------------------------------------


async def get(ctx: ServiceContext, kind: ResourceType[M], ref: Ref) -> M:
    """The record, for a write (404 ``<entity>_not_found``)."""
    refuse_unless_reader(ctx, kind)
    found: M = await kind.repository(ctx.session).require(ref, ctx.principal)
    return found


async def read(ctx: ServiceContext, kind: ResourceType[Any], ref: Ref) -> Row:
    """The record as a row, for a read-only request (``db/reads.py``): one statement."""
    refuse_unless_reader(ctx, kind)
    found: Row = await kind.repository.reading(ctx).read(ctx.reads, ref, ctx.principal)
    return found


async def read_many(
    ctx: ServiceContext, kind: ResourceType[Any], ids: Sequence[uuid.UUID]
) -> list[Row]:
    """Records by id as rows, one statement (DataLoaders); what is not there is left out."""
    refuse_unless_reader(ctx, kind)
    found: list[Row] = await kind.repository.reading(ctx).read_many(ctx.reads, ids, ctx.principal)
    return found


async def read_list(
    ctx: ServiceContext,
    kind: ResourceType[Any],
    filters: BaseModel,
    params: ListParams,
    *,
    for_json: bool = False,
) -> Page[Row]:
    """A page of the list as rows, with the declared filters and sorts. ``for_json``:
    rows that only a JSON body prints (``db.reads.Reads.all``)."""
    refuse_unless_reader(ctx, kind)
    if kind.ranked is not None:
        params = ranked_order(kind.ranked, filters, params)
    page = build_page_request(
        params, columns=kind.sortable, default_sort=kind.default_sort, filters=filters.model_dump()
    )
    found: Page[Row] = await kind.repository.reading(ctx).read_list(
        ctx.reads, ctx.principal, filters, page, kind.listed_columns(), for_json=for_json
    )
    return found


def ranked_order(ranked: Ranked, filters: BaseModel, params: ListParams) -> ListParams:
    """A search with no sort asked: best match first; the relevance asked without a
    search: 422 ``sort_needs_search``."""
    searched = getattr(filters, ranked.by, None) is not None
    if params.sort is None:
        return dataclasses.replace(params, sort=f"-{ranked.name}") if searched else params
    if params.sort.lstrip("-") == ranked.name and not searched:
        raise InvalidInput(
            code="sort_needs_search",
            detail=f"Sorting by {ranked.name} needs a search: send {ranked.by}=.",
            errors=[ErrorDetail(("query", "sort"), f"needs {ranked.by}", "value_error")],
        )
    return params


# -- writes ----------------------------------------------------------------------------------


def check_in_order(kind: Declared, values: Mapping[str, Any] | Any) -> None:
    """The declared (start, end) pairs of a body or a record: the end not before the
    start (422 ``dates_out_of_order``)."""
    for start, end in kind.in_order:
        if isinstance(values, Mapping):
            first, last = values.get(start), values.get(end)
        else:
            first, last = getattr(values, start), getattr(values, end)
        if first is not None and last is not None and last < first:
            raise InvalidInput(
                code="dates_out_of_order",
                detail=f"{end} ({last}) is before {start} ({first}).",
                errors=[ErrorDetail(("body", end), "before the start", "value_error")],
            )


async def create(ctx: ServiceContext, kind: ResourceType[Any], data: BaseModel) -> Row:
    """The new record as a row, with its creation event: written in one statement where
    the unit of work allows (``db.writes``). What the rules answer beside the stored
    values (``shown_once``: an API key's secret) is in the row answered, and nowhere
    else."""
    refuse_unless_reader(ctx, kind)
    refuse_unless_writer(ctx, kind)
    data = await kind.rules.expanding(ctx, data)
    values = data.model_dump()
    kind.rules.checking(values)
    owned = await kind.rules.creating(ctx, values)
    for name in kind.instructions:  # seen by the rules, never kept
        values.pop(name, None)
    columns = kind.creates.table.c
    stored = {name: value for name, value in owned.items() if name in columns}
    row = await create_recorded(ctx, kind.creates, values, kind.created_event, **stored)
    await kind.rules.created(ctx, row, data)
    if len(stored) < len(owned):
        return {**row, **{name: value for name, value in owned.items() if name not in columns}}
    return row


async def update(
    ctx: ServiceContext,
    kind: ResourceType[M],
    ref: Ref,
    patch: Patch,
    expected_version: int | None,
) -> M:
    """The sent fields applied; an event of what really changed (none: nothing)."""
    values = patch.changes()
    kind.rules.checking(values)
    obj: Any = await get(ctx, kind, ref)
    refuse_unless_writer(ctx, kind)
    kind.rules.may_change(ctx, obj)
    if kind.versioned:
        check_version(kind.name, obj, expected_version)
    await kind.rules.updating(ctx, obj, values)
    creates = kind.creates
    await writes.check_references(ctx.session, creates.table, creates.references, values)
    changes = apply_changes(ctx, obj, values)
    check_in_order(kind, obj)
    if changes:
        if kind.unique is not None:
            await flush_unique(ctx.session, kind.name, kind.unique)
        else:
            await ctx.session.flush()
        await record(ctx, Event(kind.updated_event, obj.id, changes, getattr(obj, "version", None)))
    found: M = obj
    return found


async def archive(
    ctx: ServiceContext, kind: ResourceType[M], ref: Ref, expected_version: int | None
) -> M:
    """The record archived (its ``archive_column`` set): readable by id; lists leave it
    out unless asked (``hides_archived``)."""
    obj: Any = await get(ctx, kind, ref)
    refuse_unless_writer(ctx, kind)
    kind.rules.may_archive(ctx, obj)
    if kind.versioned:
        check_version(kind.name, obj, expected_version)
    await kind.rules.archiving(ctx, obj)
    changes = archive_record(ctx, kind.name, obj, kind.archive_column, kind.events.archived)
    await ctx.session.flush()
    await record(ctx, Event(kind.archived_event, obj.id, changes, getattr(obj, "version", None)))
    found: M = obj
    return found


async def act(
    ctx: ServiceContext,
    kind: ResourceType[M],
    action: ResourceAction,
    ref: Ref,
    body: BaseModel | None,
    expected_version: int | None,
) -> M:
    """A declared action on a resource (see ``ResourceAction``)."""
    obj: Any = await get(ctx, kind, ref)
    allowed = action.allowed or kind.writers
    if not allowed.may_write(ctx.principal):
        code, detail = allowed.refusal
        raise Forbidden(code=code, detail=detail)
    if kind.versioned:
        check_version(kind.name, obj, expected_version)
    await action.run(ctx, obj, body, kind.event(action.event))
    await ctx.session.flush()
    found: M = obj
    return found
