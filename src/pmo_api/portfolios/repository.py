from __future__ import annotations

import uuid

from sqlalchemy import Select, select

from pmo_api.core.context import Principal
from pmo_api.core.pagination import Page, PageRequest
from pmo_api.db.records import common_filters, text_search
from pmo_api.db.repository import Repository
from pmo_api.portfolios.models import Portfolio
from pmo_api.portfolios.schemas import PortfolioFilter


class PortfolioRepository(Repository[Portfolio]):
    """Every role reads the portfolio structure; writes are checked in access.py."""

    entity = "portfolio"
    model = Portfolio
    keyed = True
    sortable = {
        "key": Portfolio.key,
        "name": Portfolio.name,
        "created_at": Portfolio.created_at,
        "updated_at": Portfolio.updated_at,
    }

    async def ancestor_ids(self, portfolio_id: uuid.UUID) -> set[uuid.UUID]:
        """The portfolio and every portfolio above it, in one recursive query."""
        chain = (
            select(Portfolio.id, Portfolio.parent_id)
            .where(Portfolio.id == portfolio_id)
            .cte("chain", recursive=True)
        )
        chain = chain.union_all(
            select(Portfolio.id, Portfolio.parent_id).join(chain, Portfolio.id == chain.c.parent_id)
        )
        return set((await self.session.scalars(select(chain.c.id))).all())

    def descendant_ids(self, portfolio_id: uuid.UUID) -> Select[tuple[uuid.UUID]]:
        """A subquery of the portfolio and every portfolio nested below it."""
        tree = select(Portfolio.id).where(Portfolio.id == portfolio_id).cte("tree", recursive=True)
        tree = tree.union_all(select(Portfolio.id).join(tree, Portfolio.parent_id == tree.c.id))
        return select(tree.c.id)

    async def has_live_children(self, portfolio_id: uuid.UUID) -> bool:
        stmt = select(Portfolio.id).where(
            Portfolio.parent_id == portfolio_id, Portfolio.archived_at.is_(None)
        )
        return (await self.session.scalar(stmt.limit(1))) is not None

    async def list(
        self, principal: Principal, filters: PortfolioFilter, page: PageRequest
    ) -> Page[Portfolio]:
        stmt = common_filters(self.visible_to(principal), Portfolio, filters)
        if filters.q:
            stmt = stmt.where(
                text_search(filters.q, (Portfolio.key, Portfolio.name, Portfolio.description))
            )
        if filters.parent_id:
            stmt = stmt.where(Portfolio.parent_id == filters.parent_id)
        if filters.root is not None:
            stmt = stmt.where(
                Portfolio.parent_id.is_(None) if filters.root else Portfolio.parent_id.is_not(None)
            )
        if filters.owner_id:
            stmt = stmt.where(Portfolio.owner_id == filters.owner_id)
        return await self.page(stmt, page)
