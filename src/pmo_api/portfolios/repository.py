from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.core.context import Principal
from pmo_api.core.pagination import Page, PageRequest
from pmo_api.db.records import common_filters, text_search
from pmo_api.db.repository import keyset_page
from pmo_api.portfolios.models import Portfolio
from pmo_api.portfolios.schemas import PortfolioFilter

SORTABLE = {
    "key": Portfolio.key,
    "name": Portfolio.name,
    "created_at": Portfolio.created_at,
    "updated_at": Portfolio.updated_at,
}


class PortfolioRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def visible_to(principal: Principal) -> Select[Portfolio]:
        # Every role reads the portfolio structure; writes are checked in access.py.
        return select(Portfolio)

    async def get(self, ref: uuid.UUID | str, principal: Principal) -> Portfolio | None:
        column = Portfolio.id if isinstance(ref, uuid.UUID) else Portfolio.key
        found: Portfolio | None = await self.session.scalar(
            self.visible_to(principal).where(column == ref)
        )
        return found

    async def get_many(self, ids: Sequence[uuid.UUID], principal: Principal) -> list[Portfolio]:
        if not ids:
            return []
        stmt = self.visible_to(principal).where(Portfolio.id.in_(set(ids)))
        return list((await self.session.scalars(stmt)).all())

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
        return await keyset_page(
            self.session, stmt, columns=SORTABLE, id_column=Portfolio.id, request=page
        )
