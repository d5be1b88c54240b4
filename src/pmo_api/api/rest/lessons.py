"""Lessons over REST beside their declared routes: the ones suggested to a project."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.deps import Caller, request_context
from pmo_api.api.rest.docs import problems
from pmo_api.api.rest.lists import KeyedRef, ref_or_422
from pmo_api.listings import lessons as suggestions
from pmo_api.listings.lessons import SuggestedLessons

router = APIRouter(tags=["lessons"])


class SuggestedQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=10, ge=1, le=200, description="How many, 1 to 200 (default 10).")


@router.get(
    "/projects/{id}/lessons/suggested",
    response_model=SuggestedLessons,
    responses=problems(304, 404),
    summary="Lessons suggested to a project",
    name="suggested_lessons",
)
async def suggested_lessons(
    request: Request, _: Caller, id: KeyedRef, query: Annotated[SuggestedQuery, Query()]
) -> Response:
    """The lessons of other projects that match the words of the project's open risks
    and issues, ranked higher when their project shares its portfolio or methodology;
    without open risks or issues, the latest lessons of its portfolio's other projects."""
    async with request_context(request) as ctx:
        found = await suggestions.suggested(ctx, ref_or_422(id), query.limit)
    return present.document(request, found)
