from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.crud import list_query_model
from pmo_api.api.rest.deps import Ctx
from pmo_api.api.rest.docs import list_problems
from pmo_api.api.rest.lists import split
from pmo_api.events.schemas import AuditEventFilter, AuditEventRead
from pmo_api.events.service import list_audit_events

router = APIRouter(prefix="/audit-events", tags=["audit-events"])
AuditEventQuery = list_query_model(AuditEventFilter)


@router.get(
    "",
    response_model=present.ListOf[AuditEventRead],
    responses=list_problems(),
    name="list_audit_events",
    summary="The audit trail (append-only)",
)
async def list_events(
    request: Request,
    ctx: Ctx,
    query: Annotated[AuditEventQuery, Query()],  # type: ignore[valid-type]
) -> Response:
    filters, params, fmt = split(query, AuditEventFilter)
    return present.page(request, AuditEventRead, await list_audit_events(ctx, filters, params), fmt)
