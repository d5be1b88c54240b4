from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.sql.base import ExecutableOption

from pmo_api.core.context import Principal
from pmo_api.core.errors import not_found
from pmo_api.core.pagination import Page, PageRequest
from pmo_api.db.records import common_filters, text_search
from pmo_api.db.repository import Repository
from pmo_api.portfolios.repository import PortfolioRepository
from pmo_api.projects.models import Project
from pmo_api.projects.schemas import ProjectFilter


class ProjectRepository(Repository[Project]):
    """Every role reads every project (executives and the PMO watch the whole
    portfolio); object rules restrict writes, see access.py."""

    entity = "project"
    model = Project
    keyed = True
    sortable = {
        "key": Project.key,
        "name": Project.name,
        "created_at": Project.created_at,
        "updated_at": Project.updated_at,
        "priority_score": Project.priority_score,
        "percent_complete": Project.percent_complete,
        "planned_budget": Project.planned_budget,
        "status": Project.status,
        "health": Project.health,
    }

    async def require_locked(self, ref: uuid.UUID | str, principal: Principal) -> Project:
        """The project, read again under its row lock (``FOR UPDATE`` on PostgreSQL;
        SQLite's BEGIN IMMEDIATE already made this transaction the only writer)."""
        column = Project.id if isinstance(ref, uuid.UUID) else Project.key
        stmt = (
            self.visible_to(principal)
            .where(column == ref)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        found = await self.session.scalar(stmt)
        if found is None:
            raise not_found(self.entity, ref)
        return found

    async def list(
        self,
        principal: Principal,
        filters: ProjectFilter,
        page: PageRequest,
        options: Sequence[ExecutableOption] = (),
    ) -> Page[Project]:
        stmt = common_filters(self.visible_to(principal), Project, filters).options(*options)
        if filters.q:
            stmt = stmt.where(
                text_search(filters.q, (Project.key, Project.name, Project.description))
            )
        if filters.portfolio_id:
            if filters.include_sub_portfolios:
                tree = PortfolioRepository(self.session).descendant_ids(filters.portfolio_id)
                stmt = stmt.where(Project.portfolio_id.in_(tree))
            else:
                stmt = stmt.where(Project.portfolio_id == filters.portfolio_id)
        if filters.manager_id:
            stmt = stmt.where(Project.manager_id == filters.manager_id)
        if filters.sponsor_id:
            stmt = stmt.where(Project.sponsor_id == filters.sponsor_id)
        if filters.status:
            stmt = stmt.where(Project.status.in_(filters.status))
        if filters.health:
            stmt = stmt.where(Project.health.in_(filters.health))
        if filters.phase:
            stmt = stmt.where(Project.phase == filters.phase)
        if filters.methodology:
            stmt = stmt.where(Project.methodology == filters.methodology)
        return await self.page(stmt, page)
