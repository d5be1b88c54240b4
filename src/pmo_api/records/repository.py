"""The reads of every project record type: one repository class per declared type
(``RiskRepository``), made from its declaration.

Every role reads every project's records (the object rules restrict writes), so
``visible_to`` hides nothing. A record type's derived values (``Derived``) are
computed in the statement that reads it: as ``with_expression`` options on the ORM
reads (GraphQL, writes) and as labelled columns on the row reads (REST GET and lists,
``db/reads.py``), for the day of the request.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import with_expression
from sqlalchemy.sql.base import ExecutableOption

from pmo_api.core.context import Principal, RowReads
from pmo_api.core.pagination import Page, PageRequest
from pmo_api.db.reads import Row
from pmo_api.db.records import common_filters
from pmo_api.db.repository import Repository
from pmo_api.records.models import ProjectRecord
from pmo_api.resources.repository import decoded, documents

if TYPE_CHECKING:
    from pmo_api.records.declaration import RecordType

M = TypeVar("M", bound=ProjectRecord)


class RecordRepository(Repository[M], Generic[M]):
    """A record type's reads; ``today`` is the day derived values are computed for."""

    kind: ClassVar[RecordType[Any]]

    def __init__(self, session: AsyncSession | None, today: date | None = None) -> None:
        super().__init__(session)
        self.today = today or date.today()

    # -- statements ---------------------------------------------------------------------

    def _options(self) -> tuple[ExecutableOption, ...]:
        return _derived_options_on(self.kind, _daily(self.kind, self.today))

    def visible_to(self, principal: Principal) -> Select[M]:
        return select(self.model).options(*self._options())

    def row_columns(self) -> Sequence[ColumnElement[Any]]:
        return _row_columns_on(self.kind, _daily(self.kind, self.today))

    def row_select(self) -> Select[Any]:
        return _row_select_on(self.kind, _daily(self.kind, self.today))

    def filtered(self, stmt: Select[Any], filters: Any) -> Select[Any]:
        """The list's conditions: archived records hidden unless asked, ``updated_since``,
        and each declared filter that was given."""
        stmt = common_filters(stmt, self.model, filters)
        for spec in self.kind.filter_list:
            value = getattr(filters, spec.name)
            if value is not None and value != []:
                condition = self.kind.condition(spec)(value, self.today)
                if condition is not None:
                    stmt = stmt.where(condition)
        return stmt

    def ordered_by(self, stmt: Select[Any], request: PageRequest) -> Select[Any]:
        """A sort key that may be null (a draft's submission time) lists only the records
        that have one: a null has no place in a keyset order."""
        if request.sort.field in _nullable(self.kind):
            stmt = stmt.where(self.sortable[request.sort.field].is_not(None))
        return stmt

    def of_parent(self, stmt: Select[Any], parent_id: uuid.UUID) -> Select[Any]:
        model: Any = self.model
        return stmt.where(getattr(model, self.kind.parent.column) == parent_id)

    # -- reads --------------------------------------------------------------------------

    def statement_key(self) -> date | None:
        return _daily(self.kind, self.today)

    async def read(self, reads: RowReads | None, ref: uuid.UUID | str, principal: Principal) -> Row:
        """The record as a row, by id (404 ``<entity>_not_found``)."""
        return decoded(self.kind, await super().read(reads, ref, principal))

    async def read_children(
        self,
        reads: RowReads | None,
        parent_id: uuid.UUID,
        filters: Any,
        request: PageRequest,
        *,
        for_json: bool = False,
    ) -> Page[Row]:
        """A page of one parent's records, as rows (a REST list)."""
        stmt = self.of_parent(self.filtered(self.row_select(), filters), parent_id)
        decode = documents(self.kind)  # decoded() reads the values as they are stored
        page = await self.read_page(
            reads, self.ordered_by(stmt, request), request, for_json=for_json and not decode
        )
        if decode:
            rows = [decoded(self.kind, row) for row in page.items]
            page = Page(rows, page.next_cursor, page.cursors)
        return page

    async def children(
        self, principal: Principal, parent_id: uuid.UUID, filters: Any, request: PageRequest
    ) -> Page[M]:
        """A page of one parent's records (GraphQL lists)."""
        stmt = self.filtered(self.of_parent(self.visible_to(principal), parent_id), filters)
        return await self.page(self.ordered_by(stmt, request), request)

    def narrowed(self, filters: Any, request: PageRequest) -> Callable[[Select[Any]], Select[Any]]:
        """The conditions of a list, for ``pages_per_project``."""
        return lambda stmt: self.ordered_by(self.filtered(stmt, filters), request)


def repository_for(kind: RecordType[Any]) -> type[RecordRepository[Any]]:
    """The repository class of a declared record type: ``<Name>Repository``."""
    name = f"{kind.pascal}Repository"
    namespace = {
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": f"The reads of {kind.words}s (see ``RecordRepository``).",
        "kind": kind,
        "model": kind.model,
        "entity": kind.name,
        "sortable": kind.sortable,
    }
    return type(name, (RecordRepository,), namespace)


@functools.cache
def _nullable(kind: RecordType[Any]) -> frozenset[str]:
    table: Any = kind.model.__table__
    plain = (name for name in kind.sorts if isinstance(name, str))
    return frozenset(name for name in plain if table.c[name].nullable)


# Statements built once per record type (and per day, for derived values): building
# one copies its expressions; the same statement object then also finds its compiled
# form at no cost (``db/reads.py``).


def _daily(kind: RecordType[Any], today: date) -> date | None:
    return today if kind.derived else None


@functools.lru_cache(maxsize=64)
def _derived_options_on(kind: RecordType[Any], day: date | None) -> tuple[ExecutableOption, ...]:
    if day is None:
        return ()
    model: Any = kind.model
    return tuple(with_expression(getattr(model, d.name), d.clause(day)) for d in kind.derived)


@functools.lru_cache(maxsize=64)
def _row_columns_on(kind: RecordType[Any], day: date | None) -> tuple[ColumnElement[Any], ...]:
    table: Any = kind.model.__table__
    if day is None:
        return tuple(table.columns)
    return (*table.columns, *(d.clause(day).label(d.name) for d in kind.derived))


@functools.lru_cache(maxsize=64)
def _row_select_on(kind: RecordType[Any], day: date | None) -> Select[Any]:
    return select(*_row_columns_on(kind, day))
