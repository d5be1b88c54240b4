"""The rollup queries: aggregates in the database, never rows loaded into Python."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.core.context import RowReads
from pmo_api.db.reads import SessionReads
from pmo_api.portfolios.repository import PortfolioRepository
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


@dataclass(frozen=True)
class ProjectGroup:
    status: str
    health: str
    phase: str | None
    count: int
    planned: Decimal
    actual: Decimal
    open_risks: int
    open_high_risks: int
    overdue_milestones: int


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

    async def portfolio_groups(
        self, reads: RowReads | None, portfolio_id: uuid.UUID, *, nested: bool, today: date
    ) -> list[ProjectGroup]:
        """One statement: the live projects in scope, each with its open risks, open high
        risks and overdue milestones counted by index look-ups on its own rows (risks
        (project_id, status), (project_id, score); milestones (project_id, due_date)),
        then grouped by (status, health, phase) with their budget sums.

        Counting per project keeps the database's work proportional to the portfolio:
        a join of the portfolio's projects with all risks is planned as a scan of the
        whole risks table (most risks are open, so the status filter selects little).
        """
        rows = reads or SessionReads(self.session)
        portfolio_ids = [portfolio_id]
        if nested:
            # The tree's ids first (a few index look-ups): the planner cannot estimate a
            # recursive query's rows, and planned a scan of every project to join them.
            tree = PortfolioRepository(None).descendant_ids(portfolio_id)
            portfolio_ids = [row["id"] for row in await rows.all(tree)]
        stmt = _portfolio_groups()
        params = {"portfolio_ids": portfolio_ids, "today": today}
        return [
            ProjectGroup(
                status=str(row["status"]),
                health=str(row["health"]),
                phase=row["phase"],
                count=row["count"],
                planned=Decimal(row["planned"]),
                actual=Decimal(row["actual"]),
                open_risks=int(row["open_risks"]),
                open_high_risks=int(row["open_high_risks"]),
                overdue_milestones=int(row["overdue"]),
            )
            for row in await rows.all(stmt, params)
        ]


@functools.cache
def _portfolio_groups() -> Select[Any]:
    """``portfolio_groups``'s statement, built once (building it is a millisecond of
    SQLAlchemy work): the portfolios and the day are bound per request."""
    # The day as a bound parameter where the clause takes a date: it compares with it.
    today: Any = bindparam("today", type_=Date)
    scope = select(Project).where(
        Project.portfolio_id.in_(bindparam("portfolio_ids", expanding=True)),
        Project.archived_at.is_(None),
    )
    open_risks = _count_for_project(Risk, open_risk_clause())
    projects = scope.with_only_columns(
        Project.status,
        Project.health,
        Project.phase,
        Project.planned_budget,
        Project.actual_cost,
        open_risks.label("open_risks"),
        open_risks.where(Risk.score >= HIGH_RISK_SCORE).label("open_high_risks"),
        _count_for_project(Milestone, overdue_clause(today)).label("overdue"),
    ).subquery()
    return select(
        projects.c.status,
        projects.c.health,
        projects.c.phase,
        func.count().label("count"),
        func.coalesce(func.sum(projects.c.planned_budget), 0).label("planned"),
        func.coalesce(func.sum(projects.c.actual_cost), 0).label("actual"),
        func.coalesce(func.sum(projects.c.open_risks), 0).label("open_risks"),
        func.coalesce(func.sum(projects.c.open_high_risks), 0).label("open_high_risks"),
        func.coalesce(func.sum(projects.c.overdue), 0).label("overdue"),
    ).group_by(projects.c.status, projects.c.health, projects.c.phase)


def _count_for_project(model: Any, *conditions: ColumnElement[bool]) -> Select[int]:
    """A correlated count of one project's rows of ``model`` (a control record table)."""
    return (
        select(func.count())
        .select_from(model)
        .where(model.project_id == Project.id, *conditions)
        .correlate(Project)
    )
