"""Liveness, readiness and the Prometheus metrics, outside /api/v1 and without API keys."""

from __future__ import annotations

import asyncio
import hmac

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text
from starlette.responses import Response

from pmo_api import telemetry
from pmo_api.api.problems import problem_body, problem_response
from pmo_api.api.rest import responses as present
from pmo_api.api.rest.deps import app_state, request_id, serve_directly
from pmo_api.api.rest.docs import problems
from pmo_api.core.errors import Unauthenticated
from pmo_api.db.errors import RETRY_AFTER_SECONDS

router = APIRouter(tags=["operations"])
READY_TIMEOUT_SECONDS = 2.0


class Status(BaseModel):
    status: str


@router.get(
    "/healthz",
    response_model=Status,
    name="healthz",
    summary="Liveness: the process serves requests",
)
async def healthz() -> Response:
    return Response(content=b'{"status":"ok"}', media_type=present.JSON)


async def _healthz(_request: Request) -> Response:
    return await healthz()


serve_directly(healthz, _healthz, authenticated=False)  # no dependency solving (deps)


@router.get(
    "/readyz",
    response_model=Status,
    responses={503: problems(503)[503]},
    name="readyz",
    summary="Readiness: the database answers",
)
async def readyz(request: Request) -> Response:
    state = app_state(request)
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            async with state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception:  # any failure to answer means not ready
        body = problem_body(
            status=503,
            code="database_unavailable",
            title="Service unavailable",
            detail="The database does not answer.",
            instance=request.url.path,
            request_id=request_id(request),
        )
        return problem_response(body, {"Retry-After": str(RETRY_AFTER_SECONDS)})
    return Response(content=b'{"status":"ready"}', media_type=present.JSON)


metrics_router = APIRouter(tags=["operations"])
"""Mounted unless PMO_METRICS_ENABLED=false; left out of the OpenAPI document, which
describes the JSON API (this is Prometheus' text format)."""


@metrics_router.get(
    "/metrics",
    name="prometheus_metrics",
    include_in_schema=False,
    summary="The process's metrics in Prometheus' text format",
)
async def prometheus_metrics(request: Request) -> Response:
    state = app_state(request)
    token = state.settings.metrics_token
    if token is not None and not _bears(request, token.get_secret_value()):
        raise Unauthenticated(
            code="invalid_credentials",
            detail="The metrics need 'Authorization: Bearer <PMO_METRICS_TOKEN>'.",
        )
    return Response(content=await telemetry.scrape(state), media_type=telemetry.CONTENT_TYPE)


def _bears(request: Request, token: str) -> bool:
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())


serve_directly(prometheus_metrics, prometheus_metrics, authenticated=False)
