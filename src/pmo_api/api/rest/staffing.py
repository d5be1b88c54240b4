"""The REST routes of staffing beyond the assignments' own (``records.py``): a person's
allocation per week. No
``from __future__ import annotations`` here: FastAPI must see the real classes."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.deps import Ctx
from pmo_api.api.rest.docs import problems
from pmo_api.api.rest.lists import UuidRef, uuid_or_422
from pmo_api.core.schemas import Day
from pmo_api.staffing import service as staffing
from pmo_api.staffing.schemas import AllocationRead

people = APIRouter(prefix="/people", tags=["assignments"])


@people.get(
    "/{id}/allocation",
    response_model=AllocationRead,
    responses=problems(304, 404),
    summary="A person's peak daily load per ISO week",
    name="get_person_allocation",
)
async def get_person_allocation(
    request: Request,
    ctx: Ctx,
    id: UuidRef,
    from_: Annotated[
        Day | None,
        Query(
            alias="from",
            description="A day of the first week (default: today, the current ISO week).",
        ),
    ] = None,
    to: Annotated[
        Day | None,
        Query(description="A day of the last week (default: 12 weeks in all); at most 104."),
    ] = None,
) -> Response:
    """The person's peak daily load in each ISO week (weeks start on Monday): the highest
    sum, on one day of the week, of the allocations of their assignments active that day
    (start to end date inclusive), and whether any day is over 100 %. Archived
    assignments and assignments on archived projects do not count. 422 `invalid_range`
    when `to` is before `from`, `range_too_long` past 104 weeks, `date_out_of_range`
    when the last week would end past 9999-12-26."""
    allocation = await staffing.person_allocation(ctx, uuid_or_422(id), from_, to)
    return present.figures(request, allocation)


routers = (people,)
