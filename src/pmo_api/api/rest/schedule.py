"""The REST routes of a project's schedule beyond its records' own (``records.py``): the
comparison of a baseline with the current plan or another baseline. No
``from __future__ import annotations`` here: FastAPI must see the real classes."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.deps import Ctx
from pmo_api.api.rest.docs import problems
from pmo_api.api.rest.lists import UuidRef, uuid_or_422
from pmo_api.schedule import service as schedule
from pmo_api.schedule.schemas import BaselineComparison

baselines = APIRouter(prefix="/baselines", tags=["baselines"])


@baselines.get(
    "/{id}/compare",
    response_model=BaselineComparison,
    responses=problems(304, 404, 422),
    summary="Compare a baseline with the current plan or another baseline",
    name="compare_baseline",
)
async def compare(
    request: Request,
    ctx: Ctx,
    id: UuidRef,
    with_: Annotated[
        uuid.UUID | None,
        Query(
            alias="with",
            description="Another baseline of the same project; the current plan when omitted.",
        ),
    ] = None,
) -> Response:
    comparison = await schedule.compare_baseline(ctx, uuid_or_422(id), with_)
    return present.figures(request, comparison)


routers = (baselines,)
