"""GET /api/v1: what this deployment is (version, currency) and who is calling."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from pmo_api import __version__
from pmo_api.api.rest import responses as present
from pmo_api.api.rest.deps import Ctx, app_state
from pmo_api.core.context import Role


class Caller(BaseModel):
    name: str
    role: Role


class ApiRoot(BaseModel):
    name: str = "pmo-api"
    version: str
    currency: str = Field(description="ISO 4217 code of every money amount (PMO_CURRENCY).")
    caller: Caller


router = APIRouter(tags=["meta"])


@router.get("", response_model=ApiRoot, name="api_root", summary="This deployment and the caller")
async def api_root(request: Request, ctx: Ctx) -> Response:
    root = ApiRoot(
        version=__version__,
        currency=app_state(request).settings.currency,
        caller=Caller(name=ctx.principal.name, role=ctx.principal.role),
    )
    return Response(content=present.dump(root), media_type=present.JSON)
