"""The REST routes of assignments (listed and created under their project, read, changed
and archived by their own id) and of a person's allocation per week. No
``from __future__ import annotations`` here: FastAPI must see the real classes."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.children import ChildResource, child_routers
from pmo_api.api.rest.deps import Ctx
from pmo_api.api.rest.docs import problems
from pmo_api.api.rest.lists import UuidRef, uuid_or_422
from pmo_api.staffing import service as staffing
from pmo_api.staffing.schemas import (
    AllocationRead,
    AssignmentCreate,
    AssignmentFilter,
    AssignmentRead,
    AssignmentUpdate,
)

nested, own = child_routers(
    ChildResource(
        path="/assignments",
        noun="assignment",
        read=AssignmentRead,
        create=AssignmentCreate,
        filter=AssignmentFilter,
        list_=staffing.list_assignments,
        get=staffing.get_assignment,
        create_=staffing.create_assignment,
        update=AssignmentUpdate,
        update_=staffing.update_assignment,
        archive=staffing.archive_assignment,
    ),
    "assignments",
)

people = APIRouter(prefix="/people", tags=["assignments"])


@people.get(
    "/{id}/allocation",
    response_model=AllocationRead,
    responses=problems(404),
    summary="A person's load per ISO week",
    name="get_person_allocation",
)
async def get_person_allocation(
    ctx: Ctx,
    id: UuidRef,
    from_: Annotated[
        date | None,
        Query(
            alias="from",
            description="A day of the first week (default: today, the current ISO week).",
        ),
    ] = None,
    to: Annotated[
        date | None,
        Query(description="A day of the last week (default: 12 weeks in all); at most 104."),
    ] = None,
) -> Response:
    """The sum of the allocations of the person's assignments touching each week (weeks
    start on Monday), and whether any week is over 100 %."""
    allocation = await staffing.person_allocation(ctx, uuid_or_422(id), from_, to)
    return Response(content=present.dump(allocation), media_type="application/json")


router = APIRouter()
router.include_router(nested)
router.include_router(own)
router.include_router(people)
