from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.sql.base import ExecutableOption

from pmo_api.core.context import Principal
from pmo_api.core.errors import not_found
from pmo_api.core.pagination import PageRequest
from pmo_api.db.records import text_search
from pmo_api.db.repository import Repository
from pmo_api.portfolios.declaration import PortfolioRepository
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
    bound_filters = frozenset(
        {
            "updated_since",
            "portfolio_id",
            "manager_id",
            "sponsor_id",
            "status",
            "health",
            "phase",
            "methodology",
        }
    )

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

    def matching(self, principal: Principal, filters: ProjectFilter) -> Select[Project]:
        """The visible projects that pass the filters, whatever their portfolio."""
        return self.filtered(
            self.visible_to(principal), filters.model_copy(update={"portfolio_id": None})
        )

    def filtered(self, stmt: Select[Any], filters: ProjectFilter) -> Select[Any]:
        stmt = super().filtered(stmt, filters)
        if filters.q:
            stmt = stmt.where(
                text_search(filters.q, (Project.key, Project.name, Project.description))
            )
        if filters.portfolio_id:
            if filters.include_sub_portfolios:
                tree = PortfolioRepository(self._session).descendant_ids(filters.portfolio_id)
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
        return stmt

    async def first_rows_per_portfolio(
        self,
        principal: Principal,
        portfolio_ids: Sequence[uuid.UUID],
        filters: ProjectFilter,
        page: PageRequest,
        options: Sequence[ExecutableOption] = (),
    ) -> Mapping[uuid.UUID, Sequence[Project]]:
        """The first ``limit + 1`` projects of each portfolio's list (``filters``, the
        portfolio aside), in ONE statement whatever the number of portfolios: the
        matching projects are ranked per portfolio (``ROW_NUMBER() OVER (PARTITION BY
        portfolio ...)``). With ``include_sub_portfolios`` a project counts in each
        portfolio above it, through one recursive query of the portfolios' trees."""
        if not portfolio_ids:
            return {}
        sort_col = self.sortable[page.sort.field]
        desc = page.sort.descending
        order = (sort_col.desc(), Project.id.desc()) if desc else (sort_col.asc(), Project.id.asc())
        ranked = self.matching(principal, filters)
        owner: ColumnElement[uuid.UUID]
        if filters.include_sub_portfolios:
            tree = PortfolioRepository(self.session).trees(portfolio_ids)
            ranked = ranked.join(tree, Project.portfolio_id == tree.c.id)
            owner = tree.c.root_id
        else:
            ranked = ranked.where(Project.portfolio_id.in_(set(portfolio_ids)))
            owner = Project.portfolio_id.expression
        position = func.row_number().over(partition_by=owner, order_by=order)
        first_rows = ranked.with_only_columns(
            Project.id.label("id"), owner.label("owner"), position.label("position")
        ).subquery()
        stmt = (
            select(Project, first_rows.c.owner)
            .join(first_rows, first_rows.c.id == Project.id)
            .where(first_rows.c.position <= page.limit + 1)
            .order_by(first_rows.c.owner, *order)
            .options(*options)
        )
        rows: dict[uuid.UUID, list[Project]] = {portfolio_id: [] for portfolio_id in portfolio_ids}
        for project, portfolio_id in await self.session.execute(stmt):
            rows[portfolio_id].append(project)
        return rows
