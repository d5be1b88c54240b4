"""The REST routes of status reports beyond their records' own (``records.py``): the
diff with the previous report. No ``from __future__ import annotations`` here: FastAPI
must see the real classes."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.deps import Ctx
from pmo_api.api.rest.docs import problems
from pmo_api.api.rest.lists import UuidRef, uuid_or_422
from pmo_api.reporting import service as reports
from pmo_api.reporting.schemas import StatusReportDiff

status_reports = APIRouter(prefix="/status-reports", tags=["status reports"])


@status_reports.get(
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


routers = (status_reports,)
