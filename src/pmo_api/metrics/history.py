"""The history: snapshots taken in one statement, and figures read back as they stood.

Taking snapshots is one ``INSERT ... SELECT ... ON CONFLICT (project_id, day) DO
UPDATE`` over the projects in scope: the figures (planned and earned value against the
current baseline, the rules in force judged) are computed by the database, and a day
keeps one snapshot per project however often it runs (the last is the day's end).

Reading: a project's figures on a day are those of its latest snapshot on or before that
day (a project snapshotted weekly still counts every day between); a series is the same
for each point, all points in one statement."""

from __future__ import annotations

import calendar
import functools
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Float,
    Numeric,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.core.context import RowReads
from pmo_api.core.errors import InvalidInput
from pmo_api.db.base import Money
from pmo_api.db.reads import SessionReads
from pmo_api.db.repository import among_ids
from pmo_api.metrics.models import ProjectSnapshot as Snapshot
from pmo_api.metrics.rollup import value_sql
from pmo_api.projects.models import Health, Project
from pmo_api.standards.compliance import rule_count_columns

MAX_POINTS = 1000
"""Points a series may have (a day series of close to three years)."""

_KEPT = (
    "project_id",
    "portfolio_id",
    "day",
    "taken_at",
    "status",
    "phase",
    "health",
    "percent_complete",
    "planned_budget",
    "actual_cost",
    "budget_at_completion",
    "planned_value",
    "earned_value",
    "rules_passed",
    "rules_failed",
    "compliance_rate",
)


async def take(session: AsyncSession, scope: ColumnElement[bool], now: datetime) -> int:
    """Snapshot every live project in ``scope`` as of ``now`` (its day, UTC); returns
    how many were taken or brought up to date."""
    dialect_name = session.get_bind().dialect.name
    today = now.date()
    passed, failed = await rule_count_columns(SessionReads(session), today)
    pv, ev = value_sql(dialect_name, today)
    measured = and_(Project.baseline_start.is_not(None), Project.baseline_end.is_not(None))
    applicable = passed + failed
    postgres = dialect_name == "postgresql"
    # Exact on PostgreSQL (numeric), a double on SQLite (a cast to NUMERIC is an integer).
    share = cast(passed, Numeric if postgres else Float) / applicable
    rate = case((applicable > 0, cast(func.round(share, 4), Float)), else_=None)
    new_id: Any = func.gen_random_uuid() if postgres else func.lower(func.hex(func.randomblob(16)))
    money = (lambda v: v) if postgres else (lambda v: cast(v, BigInteger))
    rows = (
        select(
            new_id,
            Project.id,
            Project.portfolio_id,
            literal(today, Date),
            literal(now, Snapshot.taken_at.type),
            cast(Project.status, String),
            Project.phase,
            cast(Project.health, String),
            Project.percent_complete,
            Project.planned_budget,
            Project.actual_cost,
            case((measured, Project.baseline_budget), else_=None),
            case((measured, money(pv)), else_=None),
            case((measured, money(ev)), else_=None),
            passed,
            failed,
            rate,
        )
        .select_from(Project)
        .where(scope, Project.archived_at.is_(None))
    )
    insert = (postgresql.insert if postgres else sqlite.insert)(Snapshot)
    stmt = insert.from_select(["id", *_KEPT], rows)
    updated = {
        name: getattr(stmt.excluded, name) for name in _KEPT if name not in ("project_id", "day")
    }
    stmt = stmt.on_conflict_do_update(index_elements=["project_id", "day"], set_=updated)
    result = await session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- reading it back -------------------------------------------------------------------------


def end_of(day: date) -> datetime:
    """The first instant after ``day`` (UTC): what existed "at the end of that day"
    was created before it and not archived before it."""
    return datetime.combine(day + timedelta(days=1), time(), UTC)


def _existed(point: Any) -> ColumnElement[bool]:
    """The project existed, not archived, at the end of the point's day."""
    return and_(
        Project.created_at < point,
        or_(Project.archived_at.is_(None), Project.archived_at >= point),
    )


_HEALTHS = tuple(health.value for health in Health)


def _figures(point_end: Any) -> list[Any]:
    """The aggregates of a point: the snapshots ``s`` in force at its end."""
    s = Snapshot
    measured = s.budget_at_completion.is_not(None)
    return [
        func.count().label("projects"),
        *(
            func.coalesce(func.sum(case((s.health == health, 1), else_=0)), 0).label(health)
            for health in _HEALTHS
        ),
        _money(func.sum(s.planned_budget)).label("planned_budget"),
        _money(func.sum(s.actual_cost)).label("actual_cost"),
        func.coalesce(func.sum(case((measured, 1), else_=0)), 0).label("measured"),
        _money(func.sum(s.planned_value)).label("planned_value"),
        _money(func.sum(s.earned_value)).label("earned_value"),
        _money(func.sum(case((measured, s.actual_cost), else_=None))).label("measured_cost"),
        func.coalesce(func.sum(s.rules_passed), 0).label("passed"),
        func.coalesce(func.sum(s.rules_failed), 0).label("failed"),
        func.avg(s.percent_complete).label("percent_complete"),
    ]


def _money(total: Any) -> ColumnElement[Any]:
    return type_coerce(func.coalesce(total, 0), Money())


def _in_portfolios(dialect_name: str, whole: bool) -> ColumnElement[bool]:
    """The snapshots of the bound ``portfolio_ids`` (the portfolio a project was in on
    the day), or every one."""
    if whole:
        return literal(True)
    if dialect_name == "postgresql":
        return among_ids(Snapshot.portfolio_id, "portfolio_ids")
    return Snapshot.portfolio_id.in_(bindparam("portfolio_ids", expanding=True))


def _points_table(dialect_name: str) -> Any:
    """The series' points as a table (``point``: the day, ``point_end``: the instant
    after it), from one bound parameter whatever their number: two arrays unnested on
    PostgreSQL, a JSON array read by ``json_each`` on SQLite (its values written as
    SQLite keeps dates and timestamps: text that compares in order)."""
    if dialect_name == "postgresql":
        return (
            func.unnest(
                bindparam("points", type_=postgresql.ARRAY(Date)),
                bindparam("point_ends", type_=postgresql.ARRAY(Snapshot.taken_at.type)),
            )
            .table_valued("point", "point_end")
            .render_derived("pts", with_types=False)
        )
    each = func.json_each(bindparam("points", type_=String)).table_valued("value")
    return (
        select(
            func.json_extract(each.c.value, "$[0]").label("point"),
            func.json_extract(each.c.value, "$[1]").label("point_end"),
        )
        .select_from(each)
        .subquery("pts")
    )


def _points_params(dialect_name: str, days: list[date]) -> dict[str, Any]:
    if dialect_name == "postgresql":
        return {"points": days, "point_ends": [end_of(day) for day in days]}
    return {
        "points": json.dumps(
            [
                [day.isoformat(), f"{day + timedelta(days=1):%Y-%m-%d} 00:00:00.000000"]
                for day in days
            ]
        )
    }


@functools.cache
def _series(dialect_name: str, whole: bool) -> Select[Any]:
    """Every point's figures: per point, each project's latest snapshot on or before
    the point's day, aggregated; the points bound as one table (``_points_table``)."""
    pts = _points_table(dialect_name)
    latest = (
        select(
            pts.c.point, pts.c.point_end, Snapshot.project_id, func.max(Snapshot.day).label("day")
        )
        .select_from(pts)
        .join(Snapshot, Snapshot.day <= pts.c.point)
        .where(_in_portfolios(dialect_name, whole))
        .group_by(pts.c.point, pts.c.point_end, Snapshot.project_id)
        .subquery("latest")
    )
    return (
        select(latest.c.point, *_figures(latest.c.point_end))
        .select_from(latest)
        .join(
            Snapshot,
            and_(Snapshot.project_id == latest.c.project_id, Snapshot.day == latest.c.day),
        )
        .join(Project, Project.id == Snapshot.project_id)
        .where(_existed(latest.c.point_end))
        .group_by(latest.c.point)
        .order_by(latest.c.point)
    )


@functools.cache
def _groups_as_of(dialect_name: str, whole: bool) -> Select[Any]:
    """A day's projects by (status, health, phase), from their latest snapshots."""
    day: Any = bindparam("as_of", type_=Date)
    point_end: Any = bindparam("as_of_end", type_=Snapshot.taken_at.type)
    latest = (
        select(Snapshot.project_id, func.max(Snapshot.day).label("day"))
        .where(Snapshot.day <= day, _in_portfolios(dialect_name, whole))
        .group_by(Snapshot.project_id)
        .subquery("latest")
    )
    return (
        select(Snapshot.status, Snapshot.health, Snapshot.phase, *_figures(point_end))
        .select_from(latest)
        .join(
            Snapshot,
            and_(Snapshot.project_id == latest.c.project_id, Snapshot.day == latest.c.day),
        )
        .join(Project, Project.id == Snapshot.project_id)
        .where(_existed(point_end))
        .group_by(Snapshot.status, Snapshot.health, Snapshot.phase)
    )


_FIRST = select(func.min(Snapshot.day).label("first"))


async def first_day(reads: RowReads, project_id: uuid.UUID | None = None) -> date | None:
    """The day of the first snapshot (of one project, or of any)."""
    stmt = _FIRST if project_id is None else _FIRST.where(Snapshot.project_id == project_id)
    row = await reads.first(stmt)
    first = None if row is None else row["first"]
    if isinstance(first, str):  # SQLite's min() of a date column reads as text
        first = date.fromisoformat(first)
    return first


def refuse_before_history(as_of: date, first: date | None) -> None:
    """422 ``before_history`` for a day before the first snapshot (or any)."""
    if first is None:
        raise InvalidInput(
            code="before_history",
            detail=f"There is no history to answer as of {as_of}: no snapshot is taken yet "
            "(one is taken when a status report is submitted, and by `pmo-api snapshot`).",
            extra={"field": "as_of", "earliest": None},
        )
    if as_of < first:
        raise InvalidInput(
            code="before_history",
            detail=f"The history starts on {first}: there are no figures as of {as_of}.",
            extra={"field": "as_of", "earliest": first.isoformat()},
        )


async def groups_as_of(
    reads: RowReads, portfolio_ids: list[uuid.UUID] | None, as_of: date
) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"as_of": as_of, "as_of_end": end_of(as_of)}
    if portfolio_ids is not None:
        params["portfolio_ids"] = portfolio_ids
    return await reads.all(_groups_as_of(reads.dialect_name, portfolio_ids is None), params)


async def project_as_of(reads: RowReads, project_id: uuid.UUID, as_of: date) -> Any:
    """The project's latest snapshot on or before ``as_of``, or None."""
    stmt = (
        select(*Snapshot.__table__.c)
        .where(Snapshot.project_id == project_id, Snapshot.day <= as_of)
        .order_by(Snapshot.day.desc())
        .limit(1)
    )
    return await reads.first(stmt)


# -- a series' points --------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    start: date
    end: date


def points(start: date, end: date, interval: str) -> list[Point]:
    """The buckets from ``start`` to ``end`` (both included): each day, each ISO week
    (Monday to Sunday) or each calendar month, the first and last cut to the range."""
    found: list[Point] = []
    day = start
    while day <= end:
        if interval == "day":
            last = day
        elif interval == "week":
            last = day + timedelta(days=6 - day.weekday())
        else:
            last = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        last = min(last, end)
        found.append(Point(day, last))
        if len(found) > MAX_POINTS:
            raise InvalidInput(
                code="too_many_points",
                detail=f"The series from {start} to {end} by {interval} has more than "
                f"{MAX_POINTS} points: ask for a shorter range or a longer interval.",
                extra={"field": "interval"},
            )
        day = last + timedelta(days=1)
    return found


async def series(
    reads: RowReads, portfolio_ids: list[uuid.UUID] | None, buckets: list[Point]
) -> dict[date, dict[str, Any]]:
    """Each bucket's figures at its end, by its end day (a bucket with no project in
    force has no row)."""
    params = _points_params(reads.dialect_name, [bucket.end for bucket in buckets])
    if portfolio_ids is not None:
        params["portfolio_ids"] = portfolio_ids
    stmt = _series(reads.dialect_name, portfolio_ids is None)
    rows = await reads.all(stmt, params)
    out: dict[date, dict[str, Any]] = {}
    for row in rows:
        point = row["point"]
        out[date.fromisoformat(point) if isinstance(point, str) else point] = row
    return out
