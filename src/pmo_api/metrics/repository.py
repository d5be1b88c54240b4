"""The rollup queries: aggregates in the database, never rows loaded into Python."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Date,
    Select,
    bindparam,
    func,
    literal,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.core.context import RowReads
from pmo_api.core.errors import not_found
from pmo_api.db.reads import Row, SessionReads
from pmo_api.metrics.rollup import AnySelect, scope_clause
from pmo_api.portfolios.repository import PortfolioReads
from pmo_api.projects.models import Project
from pmo_api.raid.models import Risk, open_risk_clause
from pmo_api.reporting.models import ReportState, StatusReport
from pmo_api.schedule.models import Milestone, overdue_clause

RISK_BANDS = {"low": (1, 4), "medium": (5, 9), "high": (10, 14), "critical": (15, 25)}
"""Severity bands of a risk's score (probability x impact, 1-25)."""
HIGH_RISK_SCORE = RISK_BANDS["high"][0]
"""An open risk scoring this or more is high or critical: e.g. probability 5 x impact 2."""


@dataclass(frozen=True)
class ProjectFigures:
    open_risks: dict[str, int]
    overdue_milestones: int
    latest_report: tuple[uuid.UUID, date, datetime] | None


@dataclass
class PortfolioFigures:
    """A portfolio's live projects counted by status, by health and by phase, with their
    budget sums and their open risks and overdue milestones."""

    by_status: dict[str, int] = field(default_factory=dict)
    by_health: dict[str, int] = field(default_factory=dict)
    by_phase: dict[str | None, int] = field(default_factory=dict)
    count: int = 0
    planned: Decimal = Decimal(0)
    actual: Decimal = Decimal(0)
    open_risks: int = 0
    open_high_risks: int = 0
    overdue_milestones: int = 0


class MetricsRepository:
    def __init__(self, session: AsyncSession | None) -> None:
        self._session = session

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("MetricsRepository was made for reads only")
        return self._session

    async def project_figures(self, project_id: uuid.UUID, today: date) -> ProjectFigures:
        """One statement: the project's open risks by band, overdue milestones and latest
        submitted status report, each a subquery on the project's own rows."""
        open_risk = (Risk.project_id == project_id, open_risk_clause())
        bands = [
            select(func.count())
            .where(*open_risk, Risk.score.between(low, high))
            .scalar_subquery()
            .label(name)
            for name, (low, high) in RISK_BANDS.items()
        ]
        overdue = (
            select(func.count())
            .where(Milestone.project_id == project_id, overdue_clause(today))
            .scalar_subquery()
        )
        latest = (
            select(StatusReport.id, StatusReport.period_end, StatusReport.submitted_at)
            .where(
                StatusReport.project_id == project_id,
                StatusReport.state == ReportState.SUBMITTED,
                StatusReport.archived_at.is_(None),
            )
            .order_by(StatusReport.period_end.desc(), StatusReport.submitted_at.desc())
            .limit(1)
            .subquery()
        )
        stmt = select(
            *bands,
            overdue.label("overdue"),
            select(latest.c.id).scalar_subquery().label("report_id"),
            select(latest.c.period_end).scalar_subquery().label("report_period_end"),
            select(latest.c.submitted_at).scalar_subquery().label("report_submitted_at"),
        )
        row = (await self.session.execute(stmt)).one()
        counts = {name: int(row._mapping[name]) for name in RISK_BANDS}
        report_id = row._mapping["report_id"]
        return ProjectFigures(
            open_risks=counts,
            overdue_milestones=int(row._mapping["overdue"]),
            latest_report=(
                None
                if report_id is None
                else (
                    report_id,
                    row._mapping["report_period_end"],
                    row._mapping["report_submitted_at"],
                )
            ),
        )

    async def portfolio_tree(
        self, reads: RowReads | None, ref: uuid.UUID | str, *, nested: bool
    ) -> tuple[Row, list[uuid.UUID]]:
        """The portfolio (by id or key: its id, key and name) and the ids of it and of
        those nested below it (when ``nested``), in one statement (404 when none).

        The tree's ids are read first (a few index look-ups) rather than joined as a
        recursive query: the planner cannot estimate a recursive query's rows, and
        planned a scan of every project to join them."""
        rows = reads or SessionReads(self.session)
        by = "id" if isinstance(ref, uuid.UUID) else "key"
        tree = await rows.all(_tree(by), {"ref": ref, "nested": nested})
        portfolio = next((row for row in tree if row["depth"] == 0), None)
        if portfolio is None:
            raise not_found("portfolio", ref)
        return portfolio, [row["id"] for row in tree]

    async def figures(
        self, reads: RowReads | None, portfolio_ids: list[uuid.UUID] | None, *, today: date
    ) -> PortfolioFigures:
        """The live projects of ``portfolio_ids`` (None: all) counted and summed by
        status, by health and by phase, with their open risks (and open high risks) and
        overdue milestones, in one statement (``_portfolio_groups``)."""
        rows = reads or SessionReads(self.session)
        params: dict[str, Any] = {"today": today}
        if portfolio_ids is not None:
            params["portfolio_ids"] = portfolio_ids
        grouped = await rows.all(
            _portfolio_groups(rows.dialect_name, portfolio_ids is None), params
        )
        figures = PortfolioFigures()
        for row in grouped:
            _add(figures, row)
        if grouped:
            first = grouped[0]
            figures.open_risks = int(first["open_risks"])
            figures.open_high_risks = int(first["open_high_risks"])
            figures.overdue_milestones = int(first["overdue"])
        return figures


def _add(figures: PortfolioFigures, row: dict[str, Any]) -> None:
    """Count one row of ``_portfolio_groups``: a grouping set's row on PostgreSQL (which
    set, in ``grouping``'s bits: 3 by status, 5 by health, 6 by phase, 7 the total), a
    (status, health, phase) group on SQLite (``grouping`` 0: it counts in every set)."""
    grouping, count = row["grouping"], row["count"]
    if grouping in (0, 3):
        status = str(row["status"])
        figures.by_status[status] = figures.by_status.get(status, 0) + count
    if grouping in (0, 5):
        health = str(row["health"])
        figures.by_health[health] = figures.by_health.get(health, 0) + count
    if grouping in (0, 6):
        figures.by_phase[row["phase"]] = figures.by_phase.get(row["phase"], 0) + count
    if grouping in (0, 7):
        figures.count += count
        figures.planned += Decimal(row["planned"])
        figures.actual += Decimal(row["actual"])


@functools.cache
def _tree(by: str) -> Select[Any]:
    """``PortfolioReads.tree_by_ref``, built once for each way of finding it."""
    return PortfolioReads().tree_by_ref(by)


@functools.cache
def _portfolio_groups(dialect_name: str, whole: bool) -> Select[Any]:
    """The counts and sums of ``figures``, built once per database and scope (building
    it is a millisecond of SQLAlchemy work): the portfolios are bound per request.

    PostgreSQL answers the three groupings and the total in one pass (GROUPING SETS,
    about fifteen rows). SQLite has none: it answers the (status, health, phase) groups,
    added up in Python; its rows are few and cheap to read in the process.

    The open risks and overdue milestones are counted once each (uncorrelated scalar
    subqueries, on every row alike) as a join of the open ones (their partial indexes)
    with the projects in scope: the planner walks a small portfolio's projects and looks
    their rows up, and hashes the projects of a large one (a hundred thousand index
    look-ups, one per project, cost more than one pass)."""
    in_scope = scope_clause(dialect_name, whole)
    risks = _open_risks(dialect_name, whole).cte("risk_totals")  # read twice, made once
    money: list[Any] = [
        func.coalesce(func.sum(Project.planned_budget), 0).label("planned"),
        func.coalesce(func.sum(Project.actual_cost), 0).label("actual"),
        select(risks.c.open).scalar_subquery().label("open_risks"),
        select(risks.c.high).scalar_subquery().label("open_high_risks"),
        _overdue(dialect_name, whole).scalar_subquery().label("overdue"),
    ]
    if dialect_name == "postgresql":
        grouping_sets: Select[Any] = (
            select(
                func.grouping(Project.status, Project.health, Project.phase).label("grouping"),
                Project.status,
                Project.health,
                Project.phase,
                func.count().label("count"),
                *money,
            )
            .where(in_scope)
            .group_by(
                func.grouping_sets(
                    tuple_(Project.status),
                    tuple_(Project.health),
                    tuple_(Project.phase),
                    tuple_(),
                )
            )
        )
        return grouping_sets
    by_groups: Select[Any] = (
        select(
            literal(0).label("grouping"),
            Project.status,
            Project.health,
            Project.phase,
            func.count().label("count"),
            *money,
        )
        .where(in_scope)
        .group_by(Project.status, Project.health, Project.phase)
    )
    return by_groups


@functools.cache
def _open_risks(dialect_name: str, whole: bool) -> AnySelect:
    """The open risks of the live projects in scope, and the high ones among them."""
    stmt: AnySelect = (
        select(
            func.count().label("open"),
            func.count().filter(Risk.score >= HIGH_RISK_SCORE).label("high"),
        )
        .select_from(Risk)
        .join(Project, Project.id == Risk.project_id)
        .where(open_risk_clause(), scope_clause(dialect_name, whole))
    )
    return stmt


@functools.cache
def _overdue(dialect_name: str, whole: bool) -> Select[Any]:
    """The overdue milestones of the live projects in scope (the day bound per request)."""
    today: Any = bindparam("today", type_=Date)
    stmt: Select[Any] = (
        select(func.count().label("overdue"))
        .select_from(Milestone)
        .join(Project, Project.id == Milestone.project_id)
        .where(overdue_clause(today), scope_clause(dialect_name, whole))
    )
    return stmt
