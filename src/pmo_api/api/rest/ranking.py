"""A portfolio's projects ranked by priority over REST (``listings/ranking.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.deps import Caller, request_context
from pmo_api.api.rest.docs import problems
from pmo_api.api.rest.lists import KeyedRef, ref_or_422
from pmo_api.listings import ranking as ranked
from pmo_api.listings.ranking import PortfolioRanking

router = APIRouter(tags=["portfolios"])


class RankingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_sub_portfolios: bool = Field(
        default=True, description="Rank the projects of the portfolios nested below it too."
    )


@router.get(
    "/portfolios/{id}/ranking",
    response_model=PortfolioRanking,
    responses=problems(304, 404),
    summary="A portfolio's projects ranked by priority",
    name="portfolio_ranking",
)
async def portfolio_ranking(
    request: Request, _: Caller, id: KeyedRef, query: Annotated[RankingQuery, Query()]
) -> Response:
    """The projects still to deliver (proposed, active, on hold), highest priority score
    first: the portfolio's weights of alignment with the objectives, value for cost and
    open risk; each with the budget ranked so far and whether it fits under the cap."""
    async with request_context(request) as ctx:
        found = await ranked.ranking(
            ctx, ref_or_422(id), include_sub_portfolios=query.include_sub_portfolios
        )
    return present.document(request, found)
