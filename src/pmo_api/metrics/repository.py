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
    bindparam,
    cast,
    func,
    literal,
    select,
    true,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.core.context import RowReads
from pmo_api.core.errors import not_found
from pmo_api.db.reads import Row, SessionReads
from pmo_api.metrics.rollup import scope_clause
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
        status, by health and by phase, in one statement.

        Each project's open risks, open high risks and overdue milestones are counted by
        index look-ups on its own rows (risks (project_id, score) of the open ones;
        milestones (project_id, due_date) of the open ones), which keeps the database's
        work proportional to the portfolio: a join of the portfolio's projects with all
        risks is planned as a scan of the whole risks table (most risks are open, so
        the status filter selects little)."""
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
        figures.open_risks += row["open_risks"]
        figures.open_high_risks += row["open_high_risks"]
        figures.overdue_milestones += row["overdue"]


@functools.cache
def _tree(by: str) -> Select[Any]:
    """``PortfolioReads.tree_by_ref``, built once for each way of finding it."""
    return PortfolioReads().tree_by_ref(by)


@functools.cache
def _portfolio_groups(dialect_name: str, whole: bool) -> Select[Any]:
    """``figures``'s statement, built once per database (building it is a
    millisecond of SQLAlchemy work): the portfolios and the day are bound per request.

    PostgreSQL answers the three groupings and the total in one pass (GROUPING SETS,
    about fifteen rows) and counts a project's open and open high risks in one index
    look-up (LATERAL). SQLite has neither: it answers the (status, health, phase)
    groups, each project's risks counted by two correlated look-ups, and the groups are
    added up in Python; its rows are few and cheap to read in the process."""
    # The day as a bound parameter where the clause takes a date: it compares with it.
    today: Any = bindparam("today", type_=Date)
    postgres = dialect_name == "postgresql"
    in_scope = (scope_clause(dialect_name, whole),)
    overdue = _count_for_project(Milestone, overdue_clause(today)).scalar_subquery()
    money: list[Any] = [
        func.coalesce(func.sum(Project.planned_budget), 0).label("planned"),
        func.coalesce(func.sum(Project.actual_cost), 0).label("actual"),
    ]
    if postgres:
        risks = (
            select(
                func.count().label("open"),
                func.count().filter(Risk.score >= HIGH_RISK_SCORE).label("high"),
            )
            .where(Risk.project_id == Project.id, open_risk_clause())
            .lateral("open_risks")
        )
        grouping_sets: Select[Any] = (
            select(
                func.grouping(Project.status, Project.health, Project.phase).label("grouping"),
                Project.status,
                Project.health,
                Project.phase,
                func.count().label("count"),
                *money,
                _whole(func.sum(risks.c.open)).label("open_risks"),
                _whole(func.sum(risks.c.high)).label("open_high_risks"),
                _whole(func.sum(overdue)).label("overdue"),
            )
            .select_from(Project)
            .join(risks, true())
            .where(*in_scope)
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
    open_risks = _count_for_project(Risk, open_risk_clause())
    high = open_risks.where(Risk.score >= HIGH_RISK_SCORE)
    by_groups: Select[Any] = (
        select(
            literal(0).label("grouping"),
            Project.status,
            Project.health,
            Project.phase,
            func.count().label("count"),
            *money,
            _whole(func.sum(open_risks.scalar_subquery())).label("open_risks"),
            _whole(func.sum(high.scalar_subquery())).label("open_high_risks"),
            _whole(func.sum(overdue)).label("overdue"),
        )
        .where(*in_scope)
        .group_by(Project.status, Project.health, Project.phase)
    )
    return by_groups


def _whole(total: ColumnElement[Any]) -> ColumnElement[int]:
    """A sum of counts as an integer (PostgreSQL's sum of bigints is a numeric)."""
    return cast(func.coalesce(total, 0), BigInteger)


def _count_for_project(model: Any, *conditions: ColumnElement[bool]) -> Select[int]:
    """A correlated count of one project's rows of ``model`` (a control record table)."""
    return (
        select(func.count())
        .select_from(model)
        .where(model.project_id == Project.id, *conditions)
        .correlate(Project)
    )
