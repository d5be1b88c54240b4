"""The rollup queries: aggregates in the database, never rows loaded into Python."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.core.context import RowReads
from pmo_api.core.errors import not_found
from pmo_api.db.reads import Row, SessionReads
from pmo_api.metrics.rollup import last_look, money_sum, scope_clause, value_sql
from pmo_api.portfolios.models import Portfolio
from pmo_api.portfolios.repository import PortfolioReads
from pmo_api.projects.models import Project
from pmo_api.raid.models import HIGH_RISK_SCORE, Risk, open_risk_clause
from pmo_api.reporting.models import ReportState, StatusReport
from pmo_api.schedule.models import Milestone, overdue_clause

RISK_BANDS = {"low": (1, 4), "medium": (5, 9), "high": (10, 14), "critical": (15, 25)}
"""Severity bands of a risk's score (probability x impact, 1-25)."""
assert RISK_BANDS["high"][0] == HIGH_RISK_SCORE  # the projects' open high risk counts


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
    measured: int = 0
    """Projects whose earned value is measured (a current baseline with dates), and
    their planned value, earned value and actual cost."""
    planned_value: Decimal = Decimal(0)
    earned_value: Decimal = Decimal(0)
    measured_cost: Decimal = Decimal(0)
    judged: int = 0
    """Projects the compliance watch has judged, and the rules they passed and failed."""
    rules_passed: int = 0
    rules_failed: int = 0
    unaligned: int = 0
    """Projects aligned to no objective, their budget and spend."""
    unaligned_planned: Decimal = Decimal(0)
    unaligned_actual: Decimal = Decimal(0)
    last_look: str | None = None
    """When the compliance watch last looked (ISO 8601), if ever."""


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

    async def portfolio_ids(self, reads: RowReads | None) -> list[uuid.UUID]:
        """Every portfolio's id (archived ones hold no live project, but cost nothing)."""
        rows = reads or SessionReads(self.session)
        return [row["id"] for row in await rows.all(_ALL_PORTFOLIOS)]

    async def figures(
        self,
        reads: RowReads | None,
        portfolio_ids: list[uuid.UUID] | None,
        *,
        today: date,
    ) -> PortfolioFigures:
        """The live projects of ``portfolio_ids`` (None: all) counted and summed by
        status, by health and by phase, with their open risks (and open high risks),
        overdue milestones, earned value and compliance, in one statement
        (``_portfolio_groups``)."""
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
        if grouped:  # the same on every row
            figures.overdue_milestones = int(grouped[0]["overdue"])
            figures.last_look = grouped[0]["last_look"]
        return figures


_ALL_PORTFOLIOS = select(Portfolio.id)


def _add(figures: PortfolioFigures, row: dict[str, Any]) -> None:
    """Count one (status, health, phase) group of ``_portfolio_groups``."""
    count = row["count"]
    status, health = str(row["status"]), str(row["health"])
    figures.by_status[status] = figures.by_status.get(status, 0) + count
    figures.by_health[health] = figures.by_health.get(health, 0) + count
    figures.by_phase[row["phase"]] = figures.by_phase.get(row["phase"], 0) + count
    figures.count += count
    figures.planned += Decimal(row["planned"])
    figures.actual += Decimal(row["actual"])
    figures.open_risks += row["open_risks"]
    figures.open_high_risks += row["open_high_risks"]
    figures.measured += row["measured"]
    figures.planned_value += Decimal(row["pv"])
    figures.earned_value += Decimal(row["ev"])
    figures.measured_cost += Decimal(row["ac"])
    figures.judged += row["judged"]
    figures.rules_passed += row["passed"]
    figures.rules_failed += row["failed"]
    figures.unaligned += row["unaligned"]
    figures.unaligned_planned += Decimal(row["unaligned_planned"])
    figures.unaligned_actual += Decimal(row["unaligned_actual"])


@functools.cache
def _tree(by: str) -> Select[Any]:
    """``PortfolioReads.tree_by_ref``, built once for each way of finding it."""
    return PortfolioReads().tree_by_ref(by)


@functools.cache
def _portfolio_groups(dialect_name: str, whole: bool) -> Select[Any]:
    """The counts and sums of ``figures``, built once per database and scope (building
    it is a millisecond of SQLAlchemy work): the portfolios are bound per request.

    The live projects in scope grouped by (status, health, phase), a few dozen groups
    whatever their number, added up in Python into the counts by status, by health and
    by phase and the totals (one hash of the rows, where PostgreSQL's GROUPING SETS hash
    them once per grouping, each with every sum). On PostgreSQL the rows are read from
    the live projects' covering index alone (``ix_projects_live_portfolio_id``).

    The open risks are summed from the counts each project keeps (``Project.open_risks``,
    moved by every risk's write): reading the risks of a hundred thousand projects costs
    more than the rest of the rollup. The overdue milestones (a matter of the day) are
    counted once (an uncorrelated scalar subquery, on every row alike) as a join of the
    open ones (their partial index) with the projects in scope: the planner walks a
    small portfolio's projects and looks their rows up, and hashes a large one's.

    Earned value (the current baseline's budget and dates are on the project's row) and
    the compliance watch's verdicts (the rules passed and failed, on the row too) are
    sums of the same rows, and so are those aligned to no objective (the count of
    objectives each contributes to is on its row)."""
    today: Any = bindparam("today", type_=Date)
    pv, ev = value_sql(dialect_name, today)
    measured = and_(Project.baseline_start.is_not(None), Project.baseline_end.is_not(None))
    alone = Project.aligned_objectives == 0
    columns: list[Any] = [
        Project.status,
        Project.health,
        Project.phase,
        func.count().label("count"),
        func.coalesce(func.sum(Project.planned_budget), 0).label("planned"),
        func.coalesce(func.sum(Project.actual_cost), 0).label("actual"),
        _whole(func.sum(Project.open_risks)).label("open_risks"),
        _whole(func.sum(Project.open_high_risks)).label("open_high_risks"),
        _whole(func.sum(case((measured, 1), else_=0))).label("measured"),
        money_sum(case((measured, pv), else_=None)).label("pv"),
        money_sum(case((measured, ev), else_=None)).label("ev"),
        money_sum(case((measured, Project.actual_cost), else_=None)).label("ac"),
        func.count(Project.rules_judged_at).label("judged"),
        _whole(func.sum(Project.rules_passed)).label("passed"),
        _whole(func.sum(Project.rules_failed)).label("failed"),
        _whole(func.sum(case((alone, 1), else_=0))).label("unaligned"),
        money_sum(case((alone, Project.planned_budget), else_=None)).label("unaligned_planned"),
        money_sum(case((alone, Project.actual_cost), else_=None)).label("unaligned_actual"),
        _overdue(dialect_name, whole).scalar_subquery().label("overdue"),
        last_look().label("last_look"),
    ]
    stmt: Select[Any] = (
        select(*columns)
        .where(scope_clause(dialect_name, whole))
        .group_by(Project.status, Project.health, Project.phase)
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


def _whole(total: ColumnElement[Any]) -> ColumnElement[int]:
    """A sum of counts as an integer (PostgreSQL's sum of integers is a bigint)."""
    return cast(func.coalesce(total, 0), BigInteger)
