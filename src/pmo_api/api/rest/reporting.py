"""The REST routes of status reports: the record routes, submission and the diff.
No ``from __future__ import annotations`` here: FastAPI must see the real classes."""

from fastapi import Request
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.children import ChildResource, child_routers, record_action
from pmo_api.api.rest.crud import ExpectedVersion
from pmo_api.api.rest.deps import Ctx
from pmo_api.api.rest.docs import problems
from pmo_api.api.rest.idempotency import IdempotencyKey
from pmo_api.api.rest.lists import UuidRef, uuid_or_422
from pmo_api.reporting import service as reports
from pmo_api.reporting.schemas import (
    StatusReportCreate,
    StatusReportDiff,
    StatusReportFilter,
    StatusReportRead,
    StatusReportUpdate,
)

TAG = "status reports"

nested, own = child_routers(
    ChildResource(
        path="/status-reports",
        noun="status report",
        read=StatusReportRead,
        create=StatusReportCreate,
        filter=StatusReportFilter,
        list_=reports.list_status_reports,
        get=reports.get_status_report,
        create_=reports.create_status_report,
        update=StatusReportUpdate,
        update_=reports.update_status_report,
        archive=reports.archive_status_report,
    ),
    TAG,
)


@own.post(
    "/{id}/submit",
    response_model=StatusReportRead,
    responses=problems(403, 404, 409, 412),
    summary="Submit a status report",
    name="submit_status_report",
)
async def submit(
    request: Request,
    ctx: Ctx,
    id: UuidRef,
    version: ExpectedVersion,
    key: IdempotencyKey = None,
) -> Response:
    """Freezes the report with the project's figures of now. The latest submitted
    report (by period end) sets the project's health; an older period's does not.
    A report is submitted once: again is a 409 (replayed with the same Idempotency-Key)."""

    return await record_action(
        request,
        ctx,
        key,
        StatusReportRead,
        lambda: reports.submit_status_report(ctx, uuid_or_422(id), version),
    )


@own.get(
    "/{id}/diff",
    response_model=StatusReportDiff,
    responses=problems(304, 404),
    summary="Compare a status report with the previous one",
    name="diff_status_report",
)
async def diff(request: Request, ctx: Ctx, id: UuidRef) -> Response:
    """Health and figures against the project's previous submitted report (by period
    end); a draft's figures are the project's live ones."""
    result = await reports.status_report_diff(ctx, uuid_or_422(id))
    return present.figures(request, result)


routers = (nested, own)
