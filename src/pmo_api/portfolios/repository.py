"""The portfolio tree's reads: ancestors, descendants, a tree found by id or key."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import CTE, Boolean, Select, bindparam, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.portfolios.models import Portfolio


class PortfolioReads:
    """The reads of the portfolio tree, beside the ones every resource has (the
    declaration's ``reads``: ``PortfolioRepository`` has both)."""

    session: AsyncSession
    """The repository's (``db.repository.Repository.session``)."""

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

    def tree_by_ref(self, by: str) -> Select[Any]:
        """The portfolio found by ``id`` or ``key`` (the bound ``ref``) first, as (id,
        key, name, depth 0), then, when the bound ``nested`` is true, every portfolio
        nested below it (their depth counted from it): the portfolio and its tree in
        one statement."""
        column = Portfolio.id if by == "id" else Portfolio.key
        root = select(Portfolio.id, Portfolio.key, Portfolio.name, literal(0).label("depth"))
        tree = root.where(column == bindparam("ref")).cte("tree", recursive=True)
        below = (
            select(Portfolio.id, Portfolio.key, Portfolio.name, tree.c.depth + 1)
            .join(tree, Portfolio.parent_id == tree.c.id)
            .where(bindparam("nested", type_=Boolean))
        )
        tree = tree.union_all(below)
        return select(tree.c.id, tree.c.key, tree.c.name, tree.c.depth)

    def trees(self, portfolio_ids: Sequence[uuid.UUID]) -> CTE:
        """Each portfolio and every portfolio nested below it, as ``(root_id, id)``
        rows, in one recursive query for all of them."""
        roots = select(Portfolio.id.label("root_id"), Portfolio.id.label("id"))
        tree = roots.where(Portfolio.id.in_(set(portfolio_ids))).cte("trees", recursive=True)
        return tree.union_all(
            select(tree.c.root_id, Portfolio.id).join(tree, Portfolio.parent_id == tree.c.id)
        )
