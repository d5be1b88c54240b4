"""A declared resource's whole list, for an export: every row its list shows, with the
same filters, sort, readers and columns, read in batches so that the size of the
collection never matters (``db.streams``).

The statement is the list's own, as ``Repository.read_list`` builds it (its template
when every filter sent is bound, else ``filtered`` on ``row_select`` with the listed
values), ordered on the same total order (sort key, id), without its limit and never
after a cursor. It runs once, on a server-side cursor.

A type whose repository reads its list its own way (lessons: a search ranks a window of
its hits and lists the others after them, in two statements) is exported by walking its
own list, page after page of ``batch`` rows on the keyset cursors the list gives: the
same rows in the same order as a client paging through it, each page one statement.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select

from pmo_api.core.context import ServiceContext
from pmo_api.core.pagination import ListParams, Page, PageRequest
from pmo_api.db.reads import Row, SessionReads
from pmo_api.db.repository import build_page_request
from pmo_api.db.streams import Batches, RowStreams
from pmo_api.resources.declaration import ResourceType
from pmo_api.resources.repository import ResourceRepository, decoded, documents
from pmo_api.resources.service import ranked_order, read_list, refuse_unless_reader

BATCH = 1000
"""Rows per batch: per fetch from the cursor (or per page of a walk), and per chunk the
door writes. Measured: a server exporting 100,000 projects as NDJSON grows by about
9 MB at its peak, as it does for 20,000 (the rows of one batch, their JSON, the buffers)."""


def reads_its_own_way(kind: ResourceType[Any]) -> bool:
    """Whether the type's repository reads its list with a method of its own (see the
    module's docstring), rather than the list statement every resource shares."""
    own: Any = kind.repository.read_list
    return own is not ResourceRepository.read_list


@contextlib.asynccontextmanager
async def exported_rows(
    ctx: ServiceContext,
    kind: ResourceType[Any],
    filters: BaseModel,
    sort: str | None,
    streams: RowStreams,
    *,
    batch: int = BATCH,
) -> AsyncIterator[Batches]:
    """The rows of ``kind``'s list with ``filters`` and ``sort`` (None: the list's
    default), all of them, in batches, while the context is open.

    Everything the list refuses is refused on entering (403 for a type the caller may
    not read, 422 for a bad sort), and the statement has run by then (a walk: its first
    page is read), so a database that cannot be reached is a 503 before anything is
    answered; only a failure while the rows are being read ends them early."""
    refuse_unless_reader(ctx, kind)
    params = ListParams(limit=batch, sort=sort)
    if kind.ranked is not None:
        params = ranked_order(kind.ranked, filters, params)
    page = build_page_request(
        params, columns=kind.sortable, default_sort=kind.default_sort, filters=filters.model_dump()
    )
    if reads_its_own_way(kind):
        first = await read_list(ctx, kind, filters, params)
        async with _closing(_walk(ctx, kind, filters, params, first)) as walk:
            yield walk
        return
    if kind.preparers:  # as the list: the filters that read the rules in force first
        filters = await kind.prepared(ctx.reads or SessionReads(ctx.session), filters)
    stmt, values = list_statement(kind, filters, page)
    async with streams.open(stmt, values, batch=batch) as batches:
        if not documents(kind):
            yield batches
            return
        async with _closing(_decoded(kind, batches)) as rows:
            yield rows


def list_statement(
    kind: ResourceType[Any], filters: BaseModel, page: PageRequest
) -> tuple[Select[Any], dict[str, Any]]:
    """The list's statement and its values, as ``Repository.read_list`` has them for
    ``page`` (no cursor), without the limit."""
    repository = kind.repository(None)
    extra = kind.listed_columns()
    template = repository.list_template(filters, page, extra)
    if template is not None:
        stmt, values = template
        values.pop("page_rows", None)
        return stmt.limit(None), values
    stmt = repository.filtered(repository.row_select().add_columns(*extra), filters)
    model: Any = kind.model
    key, id_column = kind.sortable[page.sort.field], model.id
    if page.sort.descending:
        return stmt.order_by(key.desc(), id_column.desc()), {}
    return stmt.order_by(key.asc(), id_column.asc()), {}


async def _walk(
    ctx: ServiceContext,
    kind: ResourceType[Any],
    filters: BaseModel,
    params: ListParams,
    first: Page[Row],
) -> AsyncGenerator[list[Row]]:
    page = first
    while True:
        if page.items:
            yield page.items
        if page.next_cursor is None:
            return
        following = dataclasses.replace(params, cursor=page.next_cursor)
        page = await read_list(ctx, kind, filters, following)


async def _decoded(kind: ResourceType[Any], batches: Batches) -> AsyncGenerator[list[Row]]:
    """Rows whose JSON documents hold their representation's types, as the list's."""
    async for rows in batches:
        yield [decoded(kind, row) for row in rows]


@contextlib.asynccontextmanager
async def _closing(batches: AsyncGenerator[list[Row]]) -> AsyncIterator[Batches]:
    """``batches`` closed when the context ends, read to the end or not."""
    try:
        yield batches
    finally:
        await batches.aclose()
