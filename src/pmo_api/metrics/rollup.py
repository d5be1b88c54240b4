"""A rollup's figures beyond the counts (``repository.portfolio_figures``): earned value
summed over the projects, the top risks, the red projects, the budget aligned to each
objective, compliance. Each is one aggregate or one bounded statement over the live
projects in scope; on PostgreSQL they run side by side on the pool.

The scope is a portfolio tree's ids (bound as ``portfolio_ids``) or the whole
organisation (no bound parameter)."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    Select,
    and_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    type_coerce,
)

from pmo_api.alignment.declaration import ALIGNED
from pmo_api.alignment.models import Alignment
from pmo_api.core.context import RowReads
from pmo_api.db.base import Money
from pmo_api.db.instance import InstanceSetting
from pmo_api.db.reads import PostgresReads, Row
from pmo_api.db.repository import among_ids
from pmo_api.objectives.models import Objective
from pmo_api.projects.models import Health, Project
from pmo_api.raid.models import Risk, open_risk_clause
from pmo_api.standards.watch import LAST_LOOK

AnySelect = Select[*tuple[Any, ...]]
"""A statement of any columns."""

TOP_RISKS = 5
"""Risks a rollup lists, highest score first (then the newest)."""
RED_SHOWN = 20
"""Red projects a rollup lists (``by_health.red`` counts them all)."""


@dataclass
class RollupExtras:
    """The figures a rollup reads beyond its projects' rows (``EXTRAS``)."""

    top_risks: list[Row] = field(default_factory=list)
    red_projects: list[Row] = field(default_factory=list)
    objectives: list[Row] = field(default_factory=list)


def scope_clause(dialect_name: str, whole: bool) -> ColumnElement[bool]:
    """The live projects of the bound ``portfolio_ids`` (or every live project)."""
    live = Project.archived_at.is_(None)
    if whole:
        return live
    if dialect_name == "postgresql":
        return and_(among_ids(Project.portfolio_id, "portfolio_ids"), live)
    return and_(Project.portfolio_id.in_(bindparam("portfolio_ids", expanding=True)), live)


def days_between(dialect_name: str, start: Any, end: Any) -> ColumnElement[Any]:
    """Whole days from ``start`` to ``end`` (dates), in each database's arithmetic."""
    if dialect_name == "postgresql":
        return cast(end, Date) - cast(start, Date)
    return cast(func.julianday(end) - func.julianday(start), Float)


_HUNDRED: ColumnElement[Any] = literal_column("100.0")
"""Percent, written into the SQL: a bound number beside money would be bound as money
(cents on SQLite)."""


def value_sql(dialect_name: str, today: Any) -> tuple[Any, Any]:
    """A project's planned value and earned value against its current baseline, in SQL,
    each rounded to the cent as the project's metrics show them: PV = BAC x the share of
    the baseline's duration elapsed (0 to 1), EV = BAC x percent complete."""
    duration: Any = func.max(
        days_between(dialect_name, Project.baseline_start, Project.baseline_end), 1
    )
    if dialect_name == "postgresql":
        duration = func.greatest(
            days_between(dialect_name, Project.baseline_start, Project.baseline_end), 1
        )
        elapsed = func.least(
            func.greatest(days_between(dialect_name, Project.baseline_start, today), 0), duration
        )
        pv = func.round(Project.baseline_budget * elapsed / duration, 2)
        ev = func.round(Project.baseline_budget * Project.percent_complete / _HUNDRED, 2)
        return pv, ev
    elapsed = func.min(
        func.max(days_between(dialect_name, Project.baseline_start, today), 0), duration
    )
    # Money is integer cents on SQLite: round to a whole number of cents.
    pv = func.round(Project.baseline_budget * elapsed / duration)
    ev = func.round(Project.baseline_budget * Project.percent_complete / _HUNDRED)
    return pv, ev


def money_sum(amounts: Any) -> ColumnElement[Decimal]:
    """A sum of money read as money (cents on SQLite), 0 when there is nothing."""
    return type_coerce(func.coalesce(func.sum(amounts), 0), Money())


def last_look() -> ColumnElement[str | None]:
    """When the compliance watch last looked (ISO 8601), as a scalar subquery."""
    return select(InstanceSetting.value).where(InstanceSetting.name == LAST_LOOK).scalar_subquery()


@functools.cache
def _top_risks(dialect_name: str, whole: bool) -> AnySelect:
    stmt: AnySelect = (
        select(
            Risk.id,
            Risk.title,
            Risk.score,
            Risk.probability,
            Risk.impact,
            Risk.status,
            Project.id.label("project_id"),
            Project.key.label("project_key"),
        )
        .join(Project, Project.id == Risk.project_id)
        .where(open_risk_clause(), scope_clause(dialect_name, whole))
        .order_by(Risk.score.desc(), Risk.created_at.desc(), Risk.id.desc())
        .limit(TOP_RISKS)
    )
    return stmt


@functools.cache
def _red(dialect_name: str, whole: bool) -> AnySelect:
    stmt: AnySelect = (
        select(Project.id, Project.key, Project.name, Project.manager_id, Project.phase)
        .where(scope_clause(dialect_name, whole), Project.health == Health.RED)
        .order_by(Project.key)
        .limit(RED_SHOWN)
    )
    return stmt


@functools.cache
def _objectives(dialect_name: str, whole: bool) -> AnySelect:
    """Per objective, the live projects in scope that contribute to it (contribution 1
    or more) and their planned budget and actual cost."""
    stmt: AnySelect = (
        select(
            Objective.id,
            Objective.key,
            Objective.title,
            Objective.weight,
            func.count().label("projects"),
            func.coalesce(func.sum(Project.planned_budget), 0).label("planned"),
            func.coalesce(func.sum(Project.actual_cost), 0).label("actual"),
        )
        .select_from(Alignment)
        .join(Project, Project.id == Alignment.project_id)
        .join(Objective, Objective.id == Alignment.objective_id)
        .where(ALIGNED, scope_clause(dialect_name, whole))
        .group_by(Objective.id, Objective.key, Objective.title, Objective.weight)
        .order_by(Objective.key)
    )
    return stmt


EXTRAS = {
    "top": _top_risks,
    "red": _red,
    "objectives": _objectives,
}
"""Each extra figure's statement, by name."""


async def rollup_extras(
    reads: RowReads, portfolio_ids: list[Any] | None, today: date, parts: frozenset[str]
) -> RollupExtras:
    """The extra figures named in ``parts`` (of ``EXTRAS``) of the live projects of
    ``portfolio_ids`` (None: every one); the others keep their defaults."""
    name = reads.dialect_name
    whole = portfolio_ids is None
    params: dict[str, Any] = {"today": today}
    if not whole:
        params["portfolio_ids"] = portfolio_ids
    wanted = [part for part in EXTRAS if part in parts]
    statements = [EXTRAS[part](name, whole) for part in wanted]
    found: list[list[Row]]
    if isinstance(reads, PostgresReads):
        found = list(await asyncio.gather(*(reads.all(stmt, params) for stmt in statements)))
    else:
        found = [await reads.all(stmt, params) for stmt in statements]
    rows = dict(zip(wanted, found, strict=True))
    return RollupExtras(
        top_risks=rows.get("top", []),
        red_projects=rows.get("red", []),
        objectives=rows.get("objectives", []),
    )
