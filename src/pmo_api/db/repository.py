"""Shared query machinery: keyset pages and unique-key conflicts."""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, Self, TypeVar

from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, literal, select, tuple_
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.base import ExecutableOption
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import Uuid

from pmo_api.core.context import Principal, RowReads, ServiceContext
from pmo_api.core.errors import duplicate_key, not_found
from pmo_api.core.pagination import (
    ListParams,
    Page,
    PageCursors,
    PageRequest,
    fingerprint,
    page_request,
    parse_sort,
)
from pmo_api.db.reads import Row, SessionReads
from pmo_api.db.records import common_filters

T = TypeVar("T")


def _after_position(
    stmt: Select[Any],
    columns: Mapping[str, InstrumentedAttribute[Any]],
    id_column: InstrumentedAttribute[Any],
    request: PageRequest,
) -> Select[Any]:
    """The page's conditions and order on the total order (sort key, id), limit + 1."""
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
    return stmt.order_by(*order).limit(request.limit + 1)


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
    stmt = _after_position(stmt, columns, id_column, request)
    rows: Sequence[T] = (await session.scalars(stmt)).all()
    return page_of(rows, request.limit, PageCursors(request.sort.field, request.fingerprint))


async def keyset_rows(
    reads: RowReads,
    stmt: Select[Any],
    *,
    columns: Mapping[str, InstrumentedAttribute[Any]],
    id_column: InstrumentedAttribute[Any],
    request: PageRequest,
    for_json: bool = False,
) -> Page[Row]:
    """``keyset_page`` for a read: the page's rows as dicts (see ``db.reads``)."""
    rows = await reads.all(_after_position(stmt, columns, id_column, request), for_json=for_json)
    return page_of(rows, request.limit, PageCursors(request.sort.field, request.fingerprint))


def page_of(rows: Sequence[T], limit: int, cursors: PageCursors) -> Page[T]:
    """A page of the first ``limit`` rows; a row after them (a list reads ``limit + 1``)
    tells that another page follows."""
    items = list(rows[:limit])
    next_cursor = cursors.after(items[-1]) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor, cursors=cursors)


async def flush_unique(session: AsyncSession, entity: str, field: str) -> None:
    """Flush, turning a unique-constraint race into a 409 with a stable code."""
    try:
        await session.flush()
    except IntegrityError as error:
        if _is_unique_violation(error):
            raise duplicate_key(entity, field) from None
        raise


def _is_unique_violation(error: IntegrityError) -> bool:
    text = str(error.orig).lower()
    return "unique" in text or "duplicate key" in text


def _decoder(column: InstrumentedAttribute[Any]) -> Callable[[Any], Any]:
    """How a cursor's sort value is read back for ``column``: made once per column
    (``python_type`` goes through SQLAlchemy's attribute machinery on every call)."""
    found = _DECODERS.get(id(column))
    if found is None or found[0] is not column:
        if len(_DECODERS) >= MAX_BY_REF:
            _DECODERS.clear()
        found = _DECODERS[id(column)] = (column, _decoder_of(column))
    return found[1]


_DECODERS: dict[int, tuple[Any, Callable[[Any], Any]]] = {}
"""By the column's identity (an ORM attribute's ``==`` builds SQL): the columns of the
declared sorts, a fixed few."""


def _decoder_of(column: InstrumentedAttribute[Any]) -> Callable[[Any], Any]:
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
        # Each project's cursors are bound to its own list; made only when asked for.
        own = functools.partial(fingerprint, project_list_filters(project_id, filters), shared.sort)
        cursors = PageCursors(shared.sort.field, own)
        next_cursor = None if page.next_cursor is None else cursors.after(page.items[-1])
        found[project_id] = Page(items=page.items, next_cursor=next_cursor, cursors=cursors)
    return found


M = TypeVar("M")

_BY_REF: dict[tuple[type[Any], str, Hashable], Select[Any]] = {}
MAX_BY_REF = 1000
"""Single-read statements kept (a few per repository type, one more per day for the
types whose rows change with the day)."""


def among_ids(column: Any, name: str) -> ColumnElement[bool]:
    """``column = ANY(:name)``, the ids bound as one PostgreSQL array: one SQL text
    whatever their number, and nothing for SQLAlchemy to expand per call."""
    return column == func.any(bindparam(name, type_=postgresql.ARRAY(Uuid())))  # type: ignore[no-any-return]


def _by_ref(repository: Repository[Any], by: str) -> Select[Any]:
    """A repository's single read by ``id`` or ``key``, built once per type (and per
    ``statement_key``): the same statement object each time, so its compiled form is
    found at no cost (``db.reads``)."""
    key = (type(repository), by, repository.statement_key())
    stmt = _BY_REF.get(key)
    if stmt is None:
        if len(_BY_REF) >= MAX_BY_REF:
            _BY_REF.clear()
        base = repository.row_select()
        condition: ColumnElement[bool]
        if by == "ids":
            condition = base.selected_columns["id"].in_(bindparam("ids", expanding=True))
        elif by == "id_array":
            condition = among_ids(base.selected_columns["id"], "ids")
        else:
            condition = base.selected_columns[by] == bindparam("ref")
        stmt = _BY_REF[key] = base.where(condition)
    return stmt


class Slot(BindParameter[Any]):
    """A filter's value in a list's template statement (``Repository.list_template``):
    a named bind parameter that reads as "set" where ``filtered`` tests the value."""

    inherit_cache = True

    def __init__(self, name: str, *, expanding: bool = False) -> None:
        super().__init__(name, expanding=expanding)

    def __bool__(self) -> bool:
        return True


_LIST_TEMPLATES: dict[Hashable, Select[Any]] = {}


class Repository(Generic[M]):
    """Reads of one record type, each starting from ``visible_to(principal)``.

    Subclasses set ``model``, ``sortable`` and (for records with a human key)
    ``keyed``; they override ``visible_to`` when a role sees less than everything.
    """

    model: type[M]
    entity: str
    sortable: Mapping[str, InstrumentedAttribute[Any]]
    keyed: bool = False

    def __init__(self, session: AsyncSession | None) -> None:
        self._session = session

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError(f"{type(self).__name__} was made for reads only")
        return self._session

    @classmethod
    def reading(cls, ctx: ServiceContext) -> Self:
        """A repository for ``read``/``read_list`` that opens no session when the
        context reads elsewhere (``ctx.reads``)."""
        return cls(ctx.session if ctx.reads is None else None)

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

    def row_columns(self) -> Sequence[ColumnElement[Any]]:
        """What a read shows of each record: its table's columns. A repository adds the
        values derived in SQL (counts, flags) its list or single read shows."""
        table: Any = self.model.__table__  # type: ignore[attr-defined]
        return tuple(table.columns)

    def statement_key(self) -> Hashable:
        """What ``row_select`` depends on beyond the repository's type: None when it is
        the same for every caller and every day; a repository whose rows carry values
        derived for the day returns the day."""
        return None

    def row_select(self) -> Select[Any]:
        """What ``visible_to`` selects, for the reads that return rows (``read``,
        ``read_list``): every role reads every row of the types that have these."""
        return select(*self.row_columns())

    async def read_many(
        self, reads: RowReads | None, ids: Sequence[uuid.UUID], principal: Principal
    ) -> list[Row]:
        """``get_many`` as rows (DataLoaders): one statement, built once per type."""
        if not ids:
            return []
        rows = reads or SessionReads(self.session)
        stmt = _by_ref(self, "id_array" if rows.dialect_name == "postgresql" else "ids")
        return await rows.all(stmt, {"ids": list(set(ids))})

    async def read(self, reads: RowReads | None, ref: uuid.UUID | str, principal: Principal) -> Row:
        """``require`` as a row: by id, or by human key for keyed records; NotFound."""
        by = "id" if isinstance(ref, uuid.UUID) or not self.keyed else "key"
        stmt = _by_ref(self, by)
        row = await (reads or SessionReads(self.session)).first(stmt, {"ref": ref})
        if row is None:
            raise not_found(self.entity, ref)
        return row

    async def read_page(
        self,
        reads: RowReads | None,
        stmt: Select[Any],
        request: PageRequest,
        *,
        for_json: bool = False,
    ) -> Page[Row]:
        """``page`` as rows, for a statement built on ``row_select``."""
        model: Any = self.model
        return await keyset_rows(
            reads or SessionReads(self.session),
            stmt,
            columns=self.sortable,
            id_column=model.id,
            request=request,
            for_json=for_json,
        )

    def filtered(self, stmt: Select[Any], filters: Any) -> Select[Any]:
        """A list's conditions, on an ORM select or a row select alike; repositories
        add their filters to these (archived records hidden, ``updated_since``)."""
        return common_filters(stmt, self.model, filters)

    async def filtered_page(
        self,
        principal: Principal,
        filters: Any,
        page: PageRequest,
        options: Sequence[ExecutableOption] = (),
    ) -> Page[M]:
        """A page of the visible records that pass ``filtered``."""
        stmt = self.filtered(self.visible_to(principal).options(*options), filters)
        return await self.page(stmt, page)

    async def read_list(
        self,
        reads: RowReads | None,
        principal: Principal,
        filters: Any,
        page: PageRequest,
        extra: Sequence[ColumnElement[Any]] = (),
        *,
        for_json: bool = False,
    ) -> Page[Row]:
        """``list`` as rows, with ``extra`` columns (e.g. counts) beside the table's.
        ``for_json``: rows that only a JSON body prints (``Reads.all``).

        The statement is built once per shape of the request (see ``list_template``)
        when every filter sent is one of ``bound_filters``; otherwise for the request."""
        found = self.list_template(filters, page, extra)
        if found is None:
            stmt = self.filtered(self.row_select().add_columns(*extra), filters)
            return await self.read_page(reads, stmt, page, for_json=for_json)
        stmt, params = found
        rows = await (reads or SessionReads(self.session)).all(stmt, params, for_json=for_json)
        return page_of(rows, page.limit, PageCursors(page.sort.field, page.fingerprint))

    bound_filters: frozenset[str] = frozenset({"updated_since"})
    """The filters whose values ``filtered`` only compares columns with (never reads,
    tests or computes with in Python): a list sending only these (and flags) runs a
    statement built once per shape, its values bound per request."""

    def list_template(
        self, filters: Any, page: PageRequest, extra: Sequence[ColumnElement[Any]] = ()
    ) -> tuple[Select[Any], dict[str, Any]] | None:
        """The list's statement built once per shape, and this request's values for it;
        None when a filter sent is not one of ``bound_filters``.

        The shape is what changes the SQL: which filters are sent, the flags (true or
        false filters), the sort and its direction, whether the page
        starts after a position, the page size, and the key of ``row_select``. The
        statement is built by ``filtered`` itself, given a filter whose values are named
        bind parameters (``Slot``), so a repository's conditions are written once, as
        plain comparisons, and serve both ways."""
        slots: dict[str, Any] = {}
        params: dict[str, Any] = {}
        flags: list[tuple[str, Any]] = []
        for name in type(filters).model_fields:
            value = getattr(filters, name)
            if isinstance(value, bool):  # a flag: part of the shape, as it is
                flags.append((name, value))
            elif value is None or (isinstance(value, list | tuple) and not value):
                continue
            elif name not in self.bound_filters or not value:
                # Unknown to the template, or a value that reads as unset where
                # filtered() tests it (0, ""): built for the request, as it reads it.
                return None
            elif isinstance(value, list | tuple):
                slots[name] = Slot(name, expanding=True)
                params[name] = list(value)
            else:
                slots[name] = Slot(name)
                params[name] = value
        after = page.after
        shape = (
            type(self),
            self.statement_key(),
            tuple(sorted(slots)),
            tuple(flags),
            page.sort.field,
            page.sort.descending,
            after is not None,
            page.limit,
            tuple(id(column) for column in extra),
        )
        stmt = _LIST_TEMPLATES.get(shape)
        if stmt is None:
            template = type(filters).model_construct(**{**dict(filters), **slots})
            stmt = self.filtered(self.row_select().add_columns(*extra), template)
            model: Any = self.model
            sort_col, id_col = self.sortable[page.sort.field], model.id
            if after is not None:
                position = tuple_(sort_col, id_col)
                start = tuple_(
                    bindparam("after_value", type_=sort_col.type),
                    bindparam("after_id", type_=id_col.type),
                )
                stmt = stmt.where(position < start if page.sort.descending else position > start)
            descending = page.sort.descending
            order = (
                (sort_col.desc(), id_col.desc()) if descending else (sort_col.asc(), id_col.asc())
            )
            stmt = stmt.order_by(*order).limit(bindparam("page_rows", type_=Integer))
            if len(_LIST_TEMPLATES) >= MAX_BY_REF:
                _LIST_TEMPLATES.clear()
            _LIST_TEMPLATES[shape] = stmt
        params["page_rows"] = page.limit + 1
        if after is not None:
            params["after_value"], params["after_id"] = after.value, after.id
        return stmt, params

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
        cursors = PageCursors(request.sort.field, request.fingerprint)
        return {
            project_id: page_of(rows, request.limit, cursors)
            for project_id, rows in by_project.items()
        }
