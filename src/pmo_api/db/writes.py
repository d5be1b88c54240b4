"""Inserts planned by a service and written by the unit of work, in one statement
when the database allows it.

A service that creates a record describes the rows it adds (``Insert``: the table, the
whole row, the records it references) and hands them to ``insert(ctx, ...)``. What
happens then depends on the unit of work the request runs in:

- **With a session** (SQLite, GraphQL, commands, any write that reads back through the
  ORM): the references are checked with one select and the row is inserted at once,
  in the session's transaction.
- **Staged** (a REST create on PostgreSQL, ``api/rest/crud.py``): nothing is sent yet.
  The door builds the response from the rows, then ``one_statement`` writes
  everything in a single statement of data-modifying CTEs: the references checked,
  the Idempotency-Key claimed with the response to replay, the rows and their audit
  event inserted, each only when everything before it held. One statement is one
  transaction on PostgreSQL: it all lands or none of it does, in one round trip.

A staged unit of work has no session: a service that asks for one raises
``NeedsSession`` before anything was written, and the door runs the request again the
ordinary way. So the one-statement path is an optimisation a service never has to
know about, only to allow by writing its rows with ``insert``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy import Select, Table, and_, bindparam, exists, func, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict, InvalidInput, duplicate_key
from pmo_api.db.reads import PostgresReads, Reads
from pmo_api.db.records import reference_not_found


class NeedsSession(Exception):
    """A staged unit of work was asked for an ORM session (see the module's docstring)."""


@dataclass(frozen=True)
class Reference:
    """A column of the new row naming a record that must exist and be live (not
    archived); ``entity`` names it in the 422 (``portfolio_not_found``)."""

    column: str
    entity: str


@dataclass(frozen=True)
class Creates:
    """How a resource's records are created, declared once beside its service: the
    table, the references a record's columns make, the entity's name and the unique
    column a 409 ``duplicate_key`` names. Its references also check an update's values
    (``check_references``)."""

    table: Table
    references: tuple[Reference, ...] = ()
    entity: str = ""
    unique: str | None = None

    def insert(self, values: Mapping[str, Any]) -> Insert:
        """A new record with these values (``new_row``)."""
        return Insert(
            self.table, new_row(self.table, values), self.references, self.entity, self.unique
        )


@dataclass(frozen=True)
class Insert:
    """One row to add: every column's value (``new_row``), the references to check
    first, and the unique column a 409 ``duplicate_key`` names (``entity``'s ``key``)."""

    table: Table
    row: dict[str, Any]
    references: tuple[Reference, ...] = ()
    entity: str = ""
    unique: str | None = None


@dataclass(frozen=True)
class Claim:
    """An upsert that gates the inserts (the Idempotency-Key's record): written when the
    references hold; on a conflict with ``conflict``'s columns it takes the row over
    only when the old one's ``expired_column`` is before ``expired_before``. When it
    claims nothing, nothing else is written either."""

    table: Table
    row: dict[str, Any]
    conflict: tuple[str, ...]
    takeover: tuple[str, ...]
    expired_column: str
    expired_before: datetime


@dataclass
class Outcome:
    """What the one statement found: which references held, whether it claimed."""

    missing: list[tuple[Insert, Reference]] = field(default_factory=list)
    claimed: bool = True


def new_row(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """Every column of a new row: the values given, else the column's Python default
    (``uuid4`` for ids, 1 for versions...), else None. A server-side default cannot be
    known before the insert, so a table with one is refused here."""
    plan = _row_plans.get(table)
    if plan is None:
        plan = _row_plans[table] = _row_plan(table)
    row: dict[str, Any] = {}
    for name, scalar, make in plan:
        if name in values:
            row[name] = values[name]
        elif make is not None:
            row[name] = make(None)
        else:
            row[name] = scalar
    if not values.keys() <= row.keys():
        raise ValueError(f"{table.name} has no column(s) {sorted(set(values) - set(row))}")
    return row


_row_plans: dict[Table, list[tuple[str, Any, Callable[[Any], Any] | None]]] = {}


def _row_plan(table: Table) -> list[tuple[str, Any, Callable[[Any], Any] | None]]:
    """Per column: its name, its scalar default, or the callable making one."""
    plan: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
    for column in table.columns:
        default: Any = column.default
        if default is not None and default.is_scalar:
            plan.append((column.name, default.arg, None))
        elif default is not None and default.is_callable:
            plan.append((column.name, None, default.arg))
        elif column.server_default is not None:
            raise ValueError(f"{table.name}.{column.name} has a server default")
        else:
            plan.append((column.name, None, None))
    return plan


async def insert(ctx: ServiceContext, planned: Insert) -> dict[str, Any]:
    """Add ``planned``'s row in the request's unit of work (see the module's docstring);
    returns the row, as the record's representation reads it."""
    pending: list[Insert] | None = ctx.staged
    if pending is not None:
        pending.append(planned)
    else:
        await insert_in_session(ctx.session, planned)
    return planned.row


def _target(table: Table, column: str) -> Table:
    (foreign_key,) = table.c[column].foreign_keys
    target: Table = foreign_key.column.table
    return target


def _live(target: Table, name: str) -> Any:
    condition = target.c.id == bindparam(name, type_=target.c.id.type)
    if "archived_at" in target.c:
        condition = and_(condition, target.c.archived_at.is_(None))
    return exists().where(condition)


def _references(planned: Sequence[Insert]) -> list[tuple[Insert, Reference, Any]]:
    """The references to check: those whose column holds a value."""
    return [
        (item, ref, item.row[ref.column])
        for item in planned
        for ref in item.references
        if item.row.get(ref.column) is not None
    ]


def missing_reference(item: Insert, ref: Reference) -> InvalidInput:
    return reference_not_found(ref.column, ref.entity, item.row[ref.column])


def duplicate(item: Insert) -> Conflict:
    return duplicate_key(item.entity, item.unique or "")


def _unique_failure(text: str) -> bool:
    text = text.lower()
    return "unique" in text or "duplicate key" in text


async def check_references(
    session: AsyncSession, table: Table, references: Sequence[Reference], values: Mapping[str, Any]
) -> None:
    """The references among ``values`` (a new row, or an update's changes) exist and are
    live, checked in one select; else the first missing one's 422."""
    present = [(ref, values[ref.column]) for ref in references if values.get(ref.column)]
    if not present:
        return
    held = (
        await session.execute(
            select(
                *(
                    _live(_target(table, ref.column), f"r{i}").label(f"r{i}")
                    for i, (ref, _) in enumerate(present)
                )
            ),
            {f"r{i}": value for i, (_, value) in enumerate(present)},
        )
    ).one()
    for found, (ref, value) in zip(held, present, strict=True):
        if not found:
            raise reference_not_found(ref.column, ref.entity, value)


async def insert_in_session(session: AsyncSession, planned: Insert) -> None:
    """The session's way: references in one select, then the insert."""
    await check_references(session, planned.table, planned.references, planned.row)
    try:
        await session.execute(sa.insert(planned.table), planned.row)
    except IntegrityError as error:
        if planned.unique and _unique_failure(str(error.orig)):
            raise duplicate(planned) from None
        raise


_shapes: dict[Any, Select[Any]] = {}


def _shape(planned: Sequence[Insert], claim: Claim | None) -> Any:
    return (
        tuple(
            (item.table.name, tuple(r.column for r in item.references if item.row.get(r.column)))
            for item in planned
        ),
        None if claim is None else (claim.table.name, claim.conflict, claim.takeover),
    )


def _values(table: Table, prefix: str) -> list[Any]:
    return [
        bindparam(f"{prefix}_{column.name}", type_=column.type).label(column.name)
        for column in table.columns
    ]


def _build(planned: Sequence[Insert], claim: Claim | None) -> Select[Any]:
    """The one statement (PostgreSQL): ``WITH refs AS (SELECT EXISTS(...) AS r0, ...),
    claim AS (INSERT ... SELECT ... FROM refs WHERE r0 AND ... ON CONFLICT ... DO UPDATE
    ... WHERE <expired> RETURNING id), i0 AS (INSERT ... SELECT ... FROM claim RETURNING
    id), ... SELECT r0, ..., (SELECT count(*) FROM claim), (SELECT count(*) FROM i0) ...``"""
    checks = _references(planned)
    refs = select(
        true().label("ok"),
        *(
            _live(_target(item.table, ref.column), f"r{i}").label(f"r{i}")
            for i, (item, ref, _) in enumerate(checks)
        ),
    ).cte("refs")
    all_held = and_(*(refs.c[f"r{i}"] for i in range(len(checks))), refs.c.ok)
    counted: list[Any] = []
    gate: Callable[[list[Any]], Select[Any]]
    if claim is not None:
        table = claim.table
        upsert = postgresql.insert(table).from_select(
            [c.name for c in table.columns],
            select(*_values(table, "claim")).select_from(refs).where(all_held),
        )
        claimed = (
            upsert.on_conflict_do_update(
                index_elements=[table.c[name] for name in claim.conflict],
                set_={name: upsert.excluded[name] for name in claim.takeover},
                where=table.c[claim.expired_column]
                < bindparam("expired_before", type_=table.c[claim.expired_column].type),
            )
            .returning(table.c.id)
            .cte("claim")
        )
        counted.append(claimed)

        def gate(values: list[Any]) -> Select[Any]:
            return select(*values).select_from(claimed)
    else:

        def gate(values: list[Any]) -> Select[Any]:
            return select(*values).select_from(refs).where(all_held)

    for j, item in enumerate(planned):
        table = item.table
        rows = (
            sa.insert(table)
            .from_select([c.name for c in table.columns], gate(_values(table, f"i{j}")))
            .returning(table.c.id)
            .cte(f"i{j}")
        )
        counted.append(rows)
    return select(
        *(refs.c[f"r{i}"] for i in range(len(checks))),
        *(
            select(func.count()).select_from(cte).scalar_subquery().label(f"n{k}")
            for k, cte in enumerate(counted)
        ),
    ).select_from(refs)


def one_statement(
    planned: Sequence[Insert], claim: Claim | None
) -> tuple[Select[Any], dict[str, Any], Callable[[Mapping[str, Any]], Outcome]]:
    """The statement writing ``planned`` (and ``claim``), its parameters, and how to
    read its one row into an ``Outcome``. Built once per shape (the tables, which
    references hold a value, whether a key is claimed)."""
    key = _shape(planned, claim)
    stmt = _shapes.get(key)
    if stmt is None:
        stmt = _shapes[key] = _build(planned, claim)
    checks = _references(planned)
    params: dict[str, Any] = {f"r{i}": value for i, (_, _, value) in enumerate(checks)}
    for j, item in enumerate(planned):
        params.update({f"i{j}_{name}": value for name, value in item.row.items()})
    if claim is not None:
        params.update({f"claim_{name}": value for name, value in claim.row.items()})
        params["expired_before"] = claim.expired_before

    def outcome(row: Mapping[str, Any]) -> Outcome:
        missing = [(item, ref) for i, (item, ref, _) in enumerate(checks) if not row[f"r{i}"]]
        return Outcome(missing=missing, claimed=claim is None or bool(row["n0"]))

    return stmt, params, outcome


def writes_in_one_statement(reads: Reads) -> bool:
    """Whether staged rows can be written in one statement on ``reads``' connections."""
    return isinstance(reads, PostgresReads)


async def write_staged(reads: Reads, planned: Sequence[Insert], claim: Claim | None) -> Outcome:
    """Write the staged rows (and the claim) in one statement, outside any transaction
    (a statement is its own). Raises the first missing reference's 422 and a unique
    column's 409; the caller replays a stored response when nothing was claimed."""
    stmt, params, read_outcome = one_statement(planned, claim)
    try:
        row = await reads.first(stmt, params)
    except asyncpg.UniqueViolationError as error:
        for item in planned:
            if item.unique and item.table.name == error.table_name:
                raise duplicate(item) from None
        raise
    assert row is not None
    outcome = read_outcome(row)
    if outcome.missing:
        raise missing_reference(*outcome.missing[0])
    return outcome
