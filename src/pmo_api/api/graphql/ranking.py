"""A portfolio's projects ranked by priority over GraphQL (``Portfolio.ranking``), the
same service and shape as REST."""

# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from typing import Any

import strawberry

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.declared import document_type
from pmo_api.listings import ranking as ranked
from pmo_api.listings.ranking import PortfolioRanking

PortfolioRankingType: Any = document_type(PortfolioRanking)


async def _ranking(
    root: Any, info: GqlInfo, include_sub_portfolios: bool = True
) -> PortfolioRankingType:
    return await info.context.fetch(
        lambda ctx: ranked.ranking(ctx, root.id, include_sub_portfolios=include_sub_portfolios),
        PortfolioRanking.model_validate,
    )


PORTFOLIO_RANKING = strawberry.field(
    resolver=_ranking,
    description="Its projects still to deliver, highest priority score first (alignment "
    "with the objectives, value for cost, open risk, by the portfolio's weights), each "
    "with the budget ranked so far and whether it fits under the cap.",
)
