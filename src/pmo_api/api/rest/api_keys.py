from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.crud import list_query_model
from pmo_api.api.rest.deps import Ctx
from pmo_api.api.rest.docs import list_problems, problems
from pmo_api.api.rest.lists import UuidRef, split, uuid_or_422
from pmo_api.auth import service
from pmo_api.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyFilter, ApiKeyRead

router = APIRouter(prefix="/api-keys", tags=["api-keys"])
ApiKeyQuery = list_query_model(ApiKeyFilter)


@router.get(
    "",
    response_model=present.ListOf[ApiKeyRead],
    responses=list_problems(),
    name="list_api_keys",
    summary="List API keys (never their secrets)",
)
async def list_api_keys(
    request: Request,
    ctx: Ctx,
    query: Annotated[ApiKeyQuery, Query()],  # type: ignore[valid-type]
) -> Response:
    filters, params, fmt = split(query, ApiKeyFilter)
    return present.page(request, ApiKeyRead, await service.list_api_keys(ctx, filters, params), fmt)


@router.post(
    "",
    status_code=201,
    response_model=ApiKeyCreated,
    responses=problems(),
    name="create_api_key",
    summary="Create an API key; the secret is shown once",
)
async def create_api_key(request: Request, ctx: Ctx, body: ApiKeyCreate) -> Response:
    key, secret = await service.create_api_key(ctx, body)
    created = ApiKeyCreated.model_validate(
        {**ApiKeyRead.model_validate(key).model_dump(), "secret": secret}
    )
    return Response(
        content=present.dump(created),
        status_code=201,
        media_type=present.JSON,
        headers={"Location": f"/api/v1/api-keys/{key.id}"},
    )


@router.delete(
    "/{id}",
    response_model=ApiKeyRead,
    responses=problems(404, 409),
    name="revoke_api_key",
    summary="Revoke an API key",
)
async def revoke_api_key(ctx: Ctx, id: UuidRef) -> Response:
    key = await service.revoke_api_key(ctx, uuid_or_422(id))
    return Response(content=present.dump(ApiKeyRead.model_validate(key)), media_type=present.JSON)
