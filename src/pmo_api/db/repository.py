"""Shared query machinery: keyset pages and unique-key conflicts."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, literal, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from pmo_api.core.context import Principal
from pmo_api.core.errors import Conflict, not_found
from pmo_api.core.pagination import (
    ListParams,
    Page,
    PageRequest,
    encode_cursor,
    page_request,
    parse_sort,
)

T = TypeVar("T")


async def keyset_page(
    session: AsyncSession,
    stmt: Select[T],
    *,
    columns: Mapping[str, InstrumentedAttribute[Any]],
    id_column: InstrumentedAttribute[Any],
    request: PageRequest,
) -> Page[T]:
    """One page on the total order (sort key, id), never OFFSET.

    The next page starts strictly after the last row's (value, id), so a walk never
    skips or repeats a row that stayed unchanged, whatever is written meanwhile.
    """
    sort_col = columns[request.sort.field]
    desc = request.sort.descending
    if request.after is not None:
        value, last_id = request.after.value, request.after.id
        # One row-value comparison, not "a > v OR (a = v AND id > i)": the database
        # can then seek an index on (sort key, id) instead of scanning from its start.
        # The id breaks ties in the sort's own direction, so the comparison is exact.
        position, after = (
            tuple_(sort_col, id_column),
            tuple_(literal(value, sort_col.type), literal(last_id, id_column.type)),
        )
        stmt = stmt.where(position < after if desc else position > after)
    order = (sort_col.desc(), id_column.desc()) if desc else (sort_col.asc(), id_column.asc())
    stmt = stmt.order_by(*order).limit(request.limit + 1)
    rows: Sequence[T] = (await session.scalars(stmt)).all()
    items = list(rows[: request.limit])
    next_cursor = None
    if len(rows) > request.limit:
        last = items[-1]
        next_cursor = encode_cursor(
            request.fingerprint,
            getattr(last, request.sort.field),
            last.id,  # type: ignore[attr-defined]
        )
    return Page(items=items, next_cursor=next_cursor)


async def flush_unique(session: AsyncSession, entity: str, field: str) -> None:
    """Flush, turning a unique-constraint race into a 409 with a stable code."""
    try:
        await session.flush()
    except IntegrityError as error:
        if _is_unique_violation(error):
            raise Conflict(
                code="duplicate_key",
                detail=f"Another {entity} already has this {field}.",
                extra={"field": field},
            ) from None
        raise


def _is_unique_violation(error: IntegrityError) -> bool:
    text = str(error.orig).lower()
    return "unique" in text or "duplicate key" in text


def _decoder(column: InstrumentedAttribute[Any]) -> Callable[[Any], Any]:
    python_type = column.type.python_type
    if python_type is datetime:
        return lambda raw: datetime.fromisoformat(raw)
    if python_type is date:
        return lambda raw: date.fromisoformat(raw)
    if python_type is Decimal:
        return lambda raw: Decimal(raw)
    if python_type is uuid.UUID:
        return lambda raw: uuid.UUID(raw)
    if isinstance(python_type, type) and issubclass(python_type, enum.Enum):
        return lambda raw: python_type(raw)
    return lambda raw: python_type(raw)


def build_page_request(
    params: ListParams,
    *,
    columns: Mapping[str, InstrumentedAttribute[Any]],
    default_sort: str,
    filters: Mapping[str, Any],
) -> PageRequest:
    """Validate sort and cursor against a list's sortable columns and its filters."""
    sort = parse_sort(params.sort, list(columns), default_sort)
    return page_request(
        limit=params.limit,
        cursor=params.cursor,
        sort=sort,
        filters=filters,
        decode_value=_decoder(columns[sort.field]),
    )


def project_list_filters(project_id: uuid.UUID, filters: Mapping[str, Any]) -> dict[str, Any]:
    """What the cursors of a project's list are bound to: its filters and the project, so
    a cursor of one project's list is refused on another's (422 ``cursor_mismatch``)."""
    return {"project_id": project_id, **filters}


def project_page_request(
    project_id: uuid.UUID,
    params: ListParams,
    *,
    columns: Mapping[str, InstrumentedAttribute[Any]],
    default_sort: str,
    filters: Mapping[str, Any],
) -> PageRequest:
    """``build_page_request`` for one project's list."""
    return build_page_request(
        params,
        columns=columns,
        default_sort=default_sort,
        filters=project_list_filters(project_id, filters),
    )


async def pages_of_projects(
    project_ids: Sequence[uuid.UUID],
    params: ListParams,
    *,
    columns: Mapping[str, InstrumentedAttribute[Any]],
    default_sort: str,
    filters: Mapping[str, Any],
    batch: Callable[[Sequence[uuid.UUID], PageRequest], Awaitable[dict[uuid.UUID, Page[T]]]],
) -> dict[uuid.UUID, Page[T]]:
    """A page of each project's list (for nested GraphQL connections), with the cursors
    of each project's own list (``project_list_filters``).

    Without a cursor, ``batch`` reads every project's first page in one statement, and
    each next cursor is then made for its project. A cursor belongs to one project's
    list: each project's page is then checked and read on its own, so a cursor given
    for another project is refused like on the project's list.
    """

    def request(project_id: uuid.UUID) -> PageRequest:
        return project_page_request(
            project_id, params, columns=columns, default_sort=default_sort, filters=filters
        )

    if params.cursor:
        pages: dict[uuid.UUID, Page[T]] = {}
        for project_id in project_ids:
            pages.update(await batch([project_id], request(project_id)))
        return pages
    shared = build_page_request(params, columns=columns, default_sort=default_sort, filters=filters)
    found = await batch(project_ids, shared)
    for project_id, page in found.items():
        if page.next_cursor is not None:
            last: Any = page.items[-1]
            fp = request(project_id).fingerprint
            cursor = encode_cursor(fp, getattr(last, shared.sort.field), last.id)
            found[project_id] = Page(items=page.items, next_cursor=cursor)
    return found


M = TypeVar("M")


class Repository(Generic[M]):
    """Reads of one record type, each starting from ``visible_to(principal)``.

    Subclasses set ``model``, ``sortable`` and (for records with a human key)
    ``keyed``; they override ``visible_to`` when a role sees less than everything.
    """

    model: type[M]
    entity: str
    sortable: Mapping[str, InstrumentedAttribute[Any]]
    keyed: bool = False

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def visible_to(self, principal: Principal) -> Select[M]:
        return select(self.model)

    async def get(self, ref: uuid.UUID | str, principal: Principal) -> M | None:
        """By id, or by human key for keyed records."""
        model: Any = self.model
        column = model.id if isinstance(ref, uuid.UUID) or not self.keyed else model.key
        found: M | None = await self.session.scalar(self.visible_to(principal).where(column == ref))
        return found

    async def require(self, ref: uuid.UUID | str, principal: Principal) -> M:
        """Like ``get``, but a record that does not exist or is not visible is a NotFound."""
        found = await self.get(ref, principal)
        if found is None:
            raise not_found(self.entity, ref)
        return found

    async def get_many(self, ids: Sequence[uuid.UUID], principal: Principal) -> list[M]:
        """Batch read (for DataLoaders): one statement, the same visibility as ``get``."""
        if not ids:
            return []
        model: Any = self.model
        stmt = self.visible_to(principal).where(model.id.in_(set(ids)))
        return list((await self.session.scalars(stmt)).all())

    async def page(self, stmt: Select[M], request: PageRequest) -> Page[M]:
        model: Any = self.model
        return await keyset_page(
            self.session, stmt, columns=self.sortable, id_column=model.id, request=request
        )

    async def pages_per_project(
        self,
        principal: Principal,
        project_ids: Sequence[uuid.UUID],
        request: PageRequest,
        narrow: Callable[[Select[Any]], Select[Any]] | None = None,
    ) -> dict[uuid.UUID, Page[M]]:
        """A page of each project's records, in ONE statement whatever the number of
        projects. ``narrow`` adds the list's conditions (by default: not archived).

        The rows are ranked per project (``ROW_NUMBER() OVER (PARTITION BY project_id
        ORDER BY sort key, id)``) and the first ``limit + 1`` of each are read (the extra
        one tells that a page follows). ``request.after`` is a position on the same
        total order, as in ``keyset_page``; ``pages_of_projects`` binds each next cursor
        to its project."""
        if not project_ids:
            return {}
        model: Any = self.model
        sort_col = self.sortable[request.sort.field]
        desc = request.sort.descending
        order = (sort_col.desc(), model.id.desc()) if desc else (sort_col.asc(), model.id.asc())
        position = func.row_number().over(partition_by=model.project_id, order_by=order)
        ranked = select(model.id, position.label("position")).where(
            model.project_id.in_(set(project_ids))
        )
        ranked = ranked.where(model.archived_at.is_(None)) if narrow is None else narrow(ranked)
        if request.after is not None:
            key = tuple_(sort_col, model.id)
            after = tuple_(
                literal(request.after.value, sort_col.type),
                literal(request.after.id, model.id.type),
            )
            ranked = ranked.where(key < after if desc else key > after)
        first_rows = ranked.subquery()
        stmt = (
            self.visible_to(principal)
            .where(
                model.id.in_(
                    select(first_rows.c.id).where(first_rows.c.position <= request.limit + 1)
                )
            )
            .order_by(model.project_id, *order)
        )
        by_project: dict[uuid.UUID, list[M]] = {project_id: [] for project_id in project_ids}
        for row in (await self.session.scalars(stmt)).all():
            by_project[row.project_id].append(row)  # type: ignore[attr-defined]
        pages: dict[uuid.UUID, Page[M]] = {}
        for project_id, rows in by_project.items():
            items = rows[: request.limit]
            next_cursor = None
            if len(rows) > request.limit:
                last: Any = items[-1]
                next_cursor = encode_cursor(
                    request.fingerprint, getattr(last, request.sort.field), last.id
                )
            pages[project_id] = Page(items=items, next_cursor=next_cursor)
        return pages
