"""Liveness and readiness, outside /api/v1 and without authentication."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text
from starlette.responses import Response

from pmo_api.api.problems import problem_body, problem_response
from pmo_api.api.rest import responses as present
from pmo_api.api.rest.deps import app_state, request_id, serve_directly
from pmo_api.api.rest.docs import problems
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
