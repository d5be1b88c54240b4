"""The portfolio tree's use cases beside the declared reads and writes
(``resources/service.py``)."""

from __future__ import annotations

import uuid

from pmo_api.core.context import ServiceContext
from pmo_api.portfolios.declaration import PortfolioRepository


async def ancestor_ids(ctx: ServiceContext, portfolio_id: uuid.UUID) -> set[uuid.UUID]:
    """The portfolio and every portfolio above it, in one statement (every role reads
    every portfolio); empty when there is no such portfolio."""
    return await PortfolioRepository(ctx.session).ancestor_ids(portfolio_id)
