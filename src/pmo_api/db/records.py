"""Steps every versioned, archivable record's service shares: version checks,
patch application with its changed fields, and archiving."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, Table, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm.attributes import flag_modified

from pmo_api.core.changes import changed_fields, jsonable, snapshot
from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict, ErrorDetail, InvalidInput, version_mismatch
from pmo_api.core.schemas import ListFilter


class Versioned(Protocol):
    version: int


def check_version(entity: str, obj: Versioned, expected: int | None) -> None:
    """``expected`` comes from If-Match or ``expectedVersion``; None means "any"."""
    if expected is not None and obj.version != expected:
        raise version_mismatch(entity, expected, obj.version)


def apply_changes(ctx: ServiceContext, obj: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """Set the sent fields; return the audit changes (empty when nothing really changed).

    Only a real change bumps ``updated_at`` (and, at flush, ``version``), so ETags
    change exactly when the representation does.
    """
    before = snapshot(obj, values.keys())
    after = {name: jsonable(value) for name, value in values.items()}
    changes = changed_fields(before, after)
    for name in changes:
        setattr(obj, name, values[name])
        # The ORM compares old and new values with ==, which finds {"a": True} equal to
        # {"a": 1} and would leave the column out of the UPDATE: force it in.
        flag_modified(obj, name)
    if changes:
        obj.updated_at = ctx.now
    return changes


def refuse_archived(entity: str, obj: Any) -> None:
    """An archived record no longer changes: 409 ``<entity>_archived``."""
    if obj.archived_at is not None:
        raise Conflict(
            code=f"{entity}_archived", detail=f"An archived {entity} can no longer change."
        )


def archive_record(
    ctx: ServiceContext,
    entity: str,
    obj: Any,
    column: str = "archived_at",
    verb: str = "archived",
) -> dict[str, Any]:
    """Set the record's archive ``column`` (an API key's ``revoked_at``) to now: 409
    ``already_<verb>`` when it is set already."""
    if getattr(obj, column) is not None:
        raise Conflict(
            code=f"already_{verb}",
            detail=f"The {entity.replace('_', ' ')} is already {verb}.",
        )
    setattr(obj, column, ctx.now)
    obj.updated_at = ctx.now
    return {column: {"before": None, "after": ctx.now.isoformat()}}


def common_filters(stmt: Select[Any], model: Any, filters: ListFilter) -> Select[Any]:
    """Archived records hidden unless asked, ``updated_since``: for a list whose filter
    has them (``ListFilter``'s; a declared resource may keep neither)."""
    if not getattr(filters, "include_archived", True):
        stmt = stmt.where(model.archived_at.is_(None))
    if getattr(filters, "updated_since", None) is not None:
        stmt = stmt.where(model.updated_at >= filters.updated_since)
    return stmt


def text_search(q: str, columns: Iterable[InstrumentedAttribute[Any]]) -> ColumnElement[bool]:
    return or_(*(column.icontains(q, autoescape=True) for column in columns))


async def require_reference(
    session: AsyncSession, model: Any, ref_id: uuid.UUID | None, field: str, entity: str
) -> Any:
    """A referenced record in a write body must exist and not be archived (else 422)."""
    if ref_id is None:
        return None
    obj = await session.get(model, ref_id)
    if obj is None or getattr(obj, "archived_at", None) is not None:
        raise reference_not_found(field, entity, ref_id)
    return obj


def reference_not_found(field: str, entity: str, value: object) -> InvalidInput:
    """A write body names a record that does not exist or is archived (422)."""
    return InvalidInput(
        code=f"{entity}_not_found",
        detail=f"{field}: no active {entity} {value} exists.",
        errors=[ErrorDetail(("body", field), f"unknown or archived {entity}", "value_error")],
    )


def referenced_table(column: InstrumentedAttribute[Any]) -> Table:
    """The table a foreign-key column points at, as its model declares it: a domain
    reads a table it references without importing the domain that defines it."""
    (foreign_key,) = column.property.columns[0].foreign_keys
    table: Table = foreign_key.column.table
    return table


async def has_live_dependents(session: AsyncSession, model: Any, row_id: uuid.UUID) -> bool:
    """Whether a live (not archived) row of any table still points at the record
    through a foreign key (a portfolio holding projects or programs), in one statement.

    Derived from the schema's foreign keys: a table added later that points at the
    record counts without a change here, and the record's domain imports none of the
    domains whose tables point at it."""
    target = model.__table__
    live = [
        exists().where(fk.parent == row_id, table.c.archived_at.is_(None))
        for table in target.metadata.tables.values()
        if "archived_at" in table.c
        for fk in table.foreign_keys
        if fk.column.table is target
    ]
    if not live:
        return False
    return bool(await session.scalar(select(or_(*live))))
