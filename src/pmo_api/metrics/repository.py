"""The rollup queries: aggregates in the database, never rows loaded into Python."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.portfolios.repository import PortfolioRepository
from pmo_api.projects.models import Project
from pmo_api.raid.models import OPEN_RISK_STATUSES, Risk
from pmo_api.schedule.models import Milestone, overdue_clause

HIGH_RISK_SCORE = 15
"""An open risk this high (of 5 x 5) counts as high: e.g. probability 5 x impact 3."""


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
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def portfolio_groups(
        self, portfolio_id: uuid.UUID, *, nested: bool, today: date
    ) -> list[ProjectGroup]:
        """One statement: live projects grouped by (status, health, phase) with their
        budget sums, and the portfolio's open risks and overdue milestones (uncorrelated
        subqueries, which both databases evaluate once)."""
        in_scope: ColumnElement[bool]
        if nested:
            portfolios = PortfolioRepository(self.session).descendant_ids(portfolio_id)
            in_scope = Project.portfolio_id.in_(portfolios)
        else:
            in_scope = Project.portfolio_id == portfolio_id
        live = select(Project.id).where(in_scope, Project.archived_at.is_(None))
        open_risks = _open_risks(live)
        stmt = (
            select(
                Project.status,
                Project.health,
                Project.phase,
                func.count(),
                func.coalesce(func.sum(Project.planned_budget), 0),
                func.coalesce(func.sum(Project.actual_cost), 0),
                open_risks.with_only_columns(func.count()).scalar_subquery(),
                open_risks.with_only_columns(func.count())
                .where(Risk.score >= HIGH_RISK_SCORE)
                .scalar_subquery(),
                select(func.count())
                .select_from(Milestone)
                .where(Milestone.project_id.in_(live), overdue_clause(today))
                .scalar_subquery(),
            )
            .where(in_scope, Project.archived_at.is_(None))
            .group_by(Project.status, Project.health, Project.phase)
        )
        rows = (await self.session.execute(stmt)).all()
        return [
            ProjectGroup(
                status=str(status),
                health=str(health),
                phase=phase,
                count=count,
                planned=Decimal(planned),
                actual=Decimal(actual),
                open_risks=risks,
                open_high_risks=high,
                overdue_milestones=overdue,
            )
            for status, health, phase, count, planned, actual, risks, high, overdue in rows
        ]


def _open_risks(projects: Select[uuid.UUID]) -> Select[uuid.UUID]:
    return select(Risk.id).where(
        Risk.project_id.in_(projects),
        Risk.status.in_(OPEN_RISK_STATUSES),
        Risk.archived_at.is_(None),
    )
