"""What both doors read from an HTTP request: the app's state, the request id, and the
caller (the API key in ``Authorization: Bearer``). REST's dependencies and the GraphQL
door's context both build their ServiceContext from these, so a key is accepted or
refused the same way at either door."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pmo_api.api.state import AppState
from pmo_api.auth.service import authenticate, authenticate_with
from pmo_api.core.context import Principal
from pmo_api.core.errors import Unauthenticated


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.pmo
    return state


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def bearer_secret(request: Request) -> str:
    """The API key a request carries, or Unauthenticated."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated(
            code="missing_credentials",
            detail="Send an API key as 'Authorization: Bearer <key>'.",
        )
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated(
            code="malformed_credentials",
            detail="The Authorization header must be 'Bearer <key>'.",
        )
    return secret.strip()


def known_caller(principal: Principal | None) -> Principal:
    """The principal a key was found for, or Unauthenticated (unknown or revoked key)."""
    if principal is None:
        raise Unauthenticated(
            code="invalid_credentials", detail="The API key is unknown or revoked."
        )
    return principal


async def authenticate_request(session: AsyncSession, request: Request) -> Principal:
    """The caller of a request (both doors), or Unauthenticated."""
    return known_caller(await authenticate(session, bearer_secret(request)))


async def caller(request: Request) -> Principal:
    """The caller of a request, found once per request (the key cache, else one read on
    the reads' connection, outside any transaction), or Unauthenticated."""
    principal: Principal | None = request.scope.get("pmo.caller")
    if principal is None:
        state = app_state(request)
        found = await authenticate_with(state.reads, bearer_secret(request), state.scope)
        principal = request.scope["pmo.caller"] = known_caller(found)
    return principal
