"""The reads of every declared resource type: one repository class per declared
type (``PersonRepository``), made from its declaration, and what a project record
type's repository (``records/repository.py``) shares with it: the sort keys, and the
JSON documents of a row read back as their representation's types.

Every role reads every resource (the ``Writers`` restrict changes), so
``visible_to`` hides nothing.
"""

from __future__ import annotations

import functools
import typing
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import ColumnElement, Date, Select, func, literal
from sqlalchemy.types import TypeDecorator

from pmo_api.core.context import Principal, RowReads
from pmo_api.core.pagination import Page, PageRequest
from pmo_api.db.reads import Row, SessionReads
from pmo_api.db.records import common_filters
from pmo_api.db.repository import Repository
from pmo_api.resources.fields import Ranked, Sort

if TYPE_CHECKING:
    from pmo_api.resources.declaration import Declared, ResourceType

M = TypeVar("M")


class ResourceRepository(Repository[M], Generic[M]):
    """A resource type's reads."""

    kind: ClassVar[ResourceType[Any]]

    def filtered(self, stmt: Select[Any], filters: Any) -> Select[Any]:
        """The list's conditions: archived ones hidden unless asked, ``updated_since``,
        and each declared filter that was given."""
        stmt = common_filters(stmt, self.model, filters)
        today = date.today()
        for spec in self.kind.filter_list:
            value = getattr(filters, spec.name)
            # A bound value may be a Slot (``list_template``): no comparison with it here.
            if value is None or (isinstance(value, list) and not value):
                continue
            condition = self.kind.condition(spec)(filters if spec.joint else value, today)
            if condition is not None:
                stmt = stmt.where(condition)
        return stmt

    async def read(self, reads: RowReads | None, ref: Any, principal: Principal) -> Row:
        """By id (or key, when keyed), as a row (404 ``<entity>_not_found``)."""
        return decoded(self.kind, await super().read(reads, ref, principal))

    async def read_many(self, reads: RowReads | None, ids: Any, principal: Principal) -> list[Row]:
        rows = await super().read_many(reads, ids, principal)
        return [decoded(self.kind, row) for row in rows] if documents(self.kind) else rows

    async def read_list(
        self,
        reads: RowReads | None,
        principal: Principal,
        filters: Any,
        page_request: PageRequest,
        extra: Sequence[ColumnElement[Any]] = (),
        *,
        for_json: bool = False,
    ) -> Page[Row]:
        if self.kind.preparers:
            filters = await self.kind.prepared(reads or SessionReads(self.session), filters)
        decode = documents(self.kind)  # decoded() reads the values as they are stored
        page = await super().read_list(
            reads, principal, filters, page_request, extra, for_json=for_json and not decode
        )
        if decode:
            page = Page([decoded(self.kind, r) for r in page.items], page.next_cursor, page.cursors)
        return page


def repository_for(kind: ResourceType[Any]) -> type[ResourceRepository[Any]]:
    """The repository class of a declared resource type: ``<Name>Repository``."""
    name = f"{kind.pascal}Repository"
    namespace = {
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": f"The reads of {kind.words} records (see ``ResourceRepository``).",
        "kind": kind,
        "model": kind.model,
        "entity": kind.name,
        "sortable": kind.sortable,
        "keyed": kind.keyed,
        "bound_filters": Repository.bound_filters | {f.name for f in kind.filter_list if f.bound},
    }
    bases = (ResourceRepository,) if kind.reads is None else (kind.reads, ResourceRepository)
    return type(name, bases, namespace)


class _MissingAs(TypeDecorator[Any]):
    """The type of a ``Sort`` key (``COALESCE(column, stand-in)``): a cursor carries the
    record's own value, null included, and is read back as the key it sorted by."""

    impl = Date
    cache_ok = True

    def __init__(self, column_type: Any, missing: Any) -> None:
        super().__init__()
        self.impl = column_type
        self.missing = missing

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return value

    @property
    def python_type(self) -> type[Any]:
        missing: Any = self.missing
        base: Any = self.impl.python_type

        class Key:
            """Reads a cursor's sort value back: null as the stand-in."""

            def __new__(cls, raw: Any) -> Any:
                if raw is None:
                    return missing
                return base.fromisoformat(raw) if hasattr(base, "fromisoformat") else base(raw)

        return Key


def sort_keys(kind: Declared) -> Mapping[str, Any]:
    """Each sort field's key in SQL: its column, or for a ``Sort`` with a stand-in for
    null, ``COALESCE(column, stand-in)``."""
    model: Any = kind.model
    keys: dict[str, Any] = {}
    for spec in kind.sorts:
        if isinstance(spec, Ranked):
            keys[spec.name] = spec.key
        elif isinstance(spec, Sort):
            column = getattr(model, spec.name)
            key_type = _MissingAs(column.type, spec.missing)
            keys[spec.name] = func.coalesce(
                column, literal(spec.missing, column.type), type_=key_type
            )
        else:
            keys[spec] = getattr(model, spec)
    return keys


@functools.cache
def documents(kind: Declared) -> tuple[tuple[str, TypeAdapter[Any]], ...]:
    """The fields held as JSON documents whose representation has typed values (a
    baseline's milestones: ids and dates), with what turns them into those types."""
    found = []
    for f in kind.fields:
        if not f.stored:
            continue
        shown = f.read_type
        if any(_typed(model) for model in _models_in(shown)):
            found.append((f.name, TypeAdapter(shown)))
    return tuple(found)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation holds, however wrapped (a list, optional, annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]


_NOT_JSON = (uuid.UUID, date, datetime, Decimal)


def _typed(model: type[BaseModel]) -> bool:
    """Whether a document's values include types JSON does not have (a skill's name
    and level are read back as they are)."""

    def holds(annotation: Any) -> bool:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return _typed(annotation)
        if isinstance(annotation, type) and issubclass(annotation, _NOT_JSON):
            return True
        return any(holds(arg) for arg in typing.get_args(annotation))

    return any(holds(info.annotation) for info in model.model_fields.values())


def decoded(kind: Declared, row: Row) -> Row:
    """A row whose JSON documents hold the values their representation types say (a
    document's ids and dates are JSON strings when read)."""
    for name, adapter in documents(kind):
        if row.get(name) is not None:
            row[name] = adapter.dump_python(adapter.validate_python(row[name]))
    return row
