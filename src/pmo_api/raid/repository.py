"""Every query of the RAID log. Every role reads every project's records (object rules
restrict writes, see projects/control.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Select, func, select

from pmo_api.core.context import Principal
from pmo_api.core.pagination import Page, PageRequest
from pmo_api.db.records import common_filters
from pmo_api.db.repository import Repository
from pmo_api.raid.models import (
    ChangeRequest,
    ProjectIssue,
    Risk,
    RiskStatus,
    open_risk_clause,
)
from pmo_api.raid.schemas import ChangeFilter, IssueFilter, RiskFilter


class RiskRepository(Repository[Risk]):
    entity = "risk"
    model = Risk
    sortable = {
        "score": Risk.score,
        "created_at": Risk.created_at,
        "updated_at": Risk.updated_at,
        "title": Risk.title,
    }

    async def list(
        self, principal: Principal, project_id: uuid.UUID, filters: RiskFilter, page: PageRequest
    ) -> Page[Risk]:
        stmt = common_filters(self.visible_to(principal), Risk, filters)
        stmt = stmt.where(Risk.project_id == project_id)
        if filters.status:
            stmt = stmt.where(Risk.status.in_(filters.status))
        if filters.min_score is not None:
            stmt = stmt.where(Risk.score >= filters.min_score)
        if filters.owner_id is not None:
            stmt = stmt.where(Risk.owner_id == filters.owner_id)
        return await self.page(stmt, page)

    @staticmethod
    def unarchived_with_status(
        status: Sequence[RiskStatus] | None,
    ) -> Callable[[Select[Any]], Select[Any]]:
        """The conditions of a project's nested risks: not archived, of ``status``."""

        def narrow(stmt: Select[Any]) -> Select[Any]:
            stmt = stmt.where(Risk.archived_at.is_(None))
            return stmt.where(Risk.status.in_(status)) if status else stmt

        return narrow

    async def open_counts(self, project_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """OPEN risks per project (status open or mitigating, not archived): one statement."""
        counts = {project_id: 0 for project_id in project_ids}
        if not project_ids:
            return counts
        stmt = (
            select(Risk.project_id, func.count())
            .where(
                Risk.project_id.in_(set(project_ids)),
                open_risk_clause(),
            )
            .group_by(Risk.project_id)
        )
        for project_id, count in (await self.session.execute(stmt)).all():
            counts[project_id] = int(count)
        return counts


class IssueRepository(Repository[ProjectIssue]):
    entity = "issue"
    model = ProjectIssue
    sortable = {
        "created_at": ProjectIssue.created_at,
        "updated_at": ProjectIssue.updated_at,
        "title": ProjectIssue.title,
    }

    async def list(
        self,
        principal: Principal,
        project_id: uuid.UUID,
        filters: IssueFilter,
        page: PageRequest,
    ) -> Page[ProjectIssue]:
        stmt = common_filters(self.visible_to(principal), ProjectIssue, filters)
        stmt = stmt.where(ProjectIssue.project_id == project_id)
        if filters.status:
            stmt = stmt.where(ProjectIssue.status.in_(filters.status))
        if filters.severity:
            stmt = stmt.where(ProjectIssue.severity.in_(filters.severity))
        if filters.owner_id is not None:
            stmt = stmt.where(ProjectIssue.owner_id == filters.owner_id)
        return await self.page(stmt, page)


class ChangeRepository(Repository[ChangeRequest]):
    entity = "change"
    model = ChangeRequest
    sortable = {
        "created_at": ChangeRequest.created_at,
        "updated_at": ChangeRequest.updated_at,
        "title": ChangeRequest.title,
        "budget_impact": ChangeRequest.budget_impact,
        "schedule_impact_days": ChangeRequest.schedule_impact_days,
    }

    async def list(
        self,
        principal: Principal,
        project_id: uuid.UUID,
        filters: ChangeFilter,
        page: PageRequest,
    ) -> Page[ChangeRequest]:
        stmt = common_filters(self.visible_to(principal), ChangeRequest, filters)
        stmt = stmt.where(ChangeRequest.project_id == project_id)
        if filters.status:
            stmt = stmt.where(ChangeRequest.status.in_(filters.status))
        return await self.page(stmt, page)
