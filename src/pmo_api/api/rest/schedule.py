"""The REST routes of a project's schedule: milestones, deliverables, baselines (which
are immutable: no PATCH, no DELETE) and the comparison of a baseline with a plan."""

import uuid
from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.children import ChildResource, child_routers
from pmo_api.api.rest.deps import Ctx
from pmo_api.api.rest.docs import problems
from pmo_api.api.rest.lists import UuidRef, uuid_or_422
from pmo_api.schedule import service as schedule
from pmo_api.schedule.schemas import (
    BaselineComparison,
    BaselineCreate,
    BaselineFilter,
    BaselineRead,
    DeliverableCreate,
    DeliverableFilter,
    DeliverableRead,
    DeliverableUpdate,
    MilestoneCreate,
    MilestoneFilter,
    MilestoneRead,
    MilestoneUpdate,
)

milestones_nested, milestones_own = child_routers(
    ChildResource(
        path="/milestones",
        noun="milestone",
        read=MilestoneRead,
        create=MilestoneCreate,
        filter=MilestoneFilter,
        list_=schedule.list_milestones,
        get=schedule.get_milestone,
        create_=schedule.create_milestone,
        update=MilestoneUpdate,
        update_=schedule.update_milestone,
        archive=schedule.archive_milestone,
        time_derived=True,
    ),
    "milestones",
)

deliverables_nested, deliverables_own = child_routers(
    ChildResource(
        path="/deliverables",
        noun="deliverable",
        read=DeliverableRead,
        create=DeliverableCreate,
        filter=DeliverableFilter,
        list_=schedule.list_deliverables,
        get=schedule.get_deliverable,
        create_=schedule.create_deliverable,
        update=DeliverableUpdate,
        update_=schedule.update_deliverable,
        archive=schedule.archive_deliverable,
    ),
    "deliverables",
)

baselines_nested, baselines_own = child_routers(
    ChildResource(
        path="/baselines",
        noun="baseline",
        read=BaselineRead,
        create=BaselineCreate,
        filter=BaselineFilter,
        list_=schedule.list_baselines,
        get=schedule.get_baseline,
        create_=schedule.capture_baseline,
        update=None,
        update_=None,
        archive=None,
    ),
    "baselines",
)


@baselines_own.get(
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


routers = (
    milestones_nested,
    milestones_own,
    deliverables_nested,
    deliverables_own,
    baselines_nested,
    baselines_own,
)
