"""Training over REST beside its declared routes: the gaps between the certifications
the policies require of managers and the ones they hold."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.deps import Caller, query_parser, request_context, serve_directly
from pmo_api.api.rest.docs import problems
from pmo_api.standards import gaps
from pmo_api.standards.gaps import TrainingGaps

router = APIRouter(tags=["training"])


class GapsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    within_days: int = Field(
        default=gaps.DEFAULT_DAYS,
        ge=0,
        le=gaps.MAX_DAYS,
        description="A certification expiring within this many days is a gap "
        f"(0 to {gaps.MAX_DAYS}, default {gaps.DEFAULT_DAYS}).",
    )


@router.get(
    "/training/gaps",
    response_model=TrainingGaps,
    responses=problems(304),
    summary="Managers' certification gaps",
    name="training_gaps",
)
async def training_gaps(
    request: Request, _: Caller, query: Annotated[GapsQuery, Query()]
) -> Response:
    """The people who manage live projects that a published policy's rule "manager holds
    certification X" applies to, and each certification so required that they lack,
    hold expired, or hold expiring within ``within_days`` days: with the projects and
    rules requiring it, by person name then certification."""
    return await _gaps(request, query)


async def _gaps(request: Request, query: GapsQuery) -> Response:
    async with request_context(request) as ctx:
        found = await gaps.training_gaps(ctx, query.within_days)
    return present.figures(request, found)


serve_directly(training_gaps, _gaps, query_parser(GapsQuery))
