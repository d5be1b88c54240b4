"""What both doors read from an HTTP request: the app's state, the request id, and the
caller (the API key in ``Authorization: Bearer``). REST's dependencies and the GraphQL
door's context both build their ServiceContext from these, so a key is accepted or
refused the same way at either door."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pmo_api.api.ratelimit import charge_rest
from pmo_api.api.state import AppState
from pmo_api.auth.service import authenticate, authenticate_with
from pmo_api.core.context import Principal
from pmo_api.core.errors import ErrorDetail, InvalidInput, Unauthenticated
from pmo_api.logs import api_key_id_var


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.pmo
    return state


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def bearer_secret(request: Request) -> str:
    """The API key a request carries, or Unauthenticated."""
    return secret_of(request.headers.get("authorization"))


def secret_of(header: str | None) -> str:
    """The API key in an Authorization value (``Bearer <key>``), or Unauthenticated."""
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
    """The principal a key was found for, or Unauthenticated (unknown or revoked key).
    The key's id goes into every log line of the request from here on (never its secret)."""
    if principal is None:
        raise Unauthenticated(
            code="invalid_credentials", detail="The API key is unknown or revoked."
        )
    api_key_id_var.set(principal.key_id)
    return principal


async def authenticate_request(session: AsyncSession, request: Request) -> Principal:
    """The caller of a request (both doors), or Unauthenticated."""
    return known_caller(await authenticate(session, bearer_secret(request)))


async def known_principal(request: Request) -> Principal:
    """The caller of a request, found once per request (the key cache, else one read on
    the reads' connection, outside any transaction), or Unauthenticated."""
    principal: Principal | None = request.scope.get("pmo.caller")
    if principal is None:
        state = app_state(request)
        found = await authenticate_with(state.reads, bearer_secret(request), state.scope)
        principal = request.scope["pmo.caller"] = known_caller(found)
    return principal


async def caller(request: Request) -> Principal:
    """The caller of a REST request (``known_principal``), charged one request to its
    key's budget when first found: over it, RateLimited (429) before the route runs."""
    principal: Principal | None = request.scope.get("pmo.caller")
    if principal is None:
        principal = await known_principal(request)
        await charge_rest(app_state(request).limits, request.scope, principal)
    return principal


_allowed_query_cache: dict[int, frozenset[str]] = {}
_CREDENTIAL_PARAMS = frozenset({"api_key", "apikey", "key", "token", "access_token", "secret"})


def _query_names(dependant: Any) -> set[str]:
    names: set[str] = set()
    for field in dependant.query_params:
        annotation = field.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.update(f.alias or n for n, f in annotation.model_fields.items())
        else:
            names.add(field.alias)
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _allowed_query(route: object) -> frozenset[str]:
    key = id(route)
    if key not in _allowed_query_cache:
        dependant = getattr(route, "dependant", None)
        names = _query_names(dependant) if dependant is not None else set()
        _allowed_query_cache[key] = frozenset(names)
    return _allowed_query_cache[key]


def check_query(request: Request) -> None:
    """Unknown query parameters are refused on every route of both doors, not silently
    ignored (REST's ``reject_unknown_query``, and the routes served without FastAPI's
    dependency solving); an API key in the URL is refused outright."""
    route = request.scope.get("route")
    if route is None or not request.scope.get("query_string"):
        return
    if _CREDENTIAL_PARAMS & set(request.query_params):
        raise Unauthenticated(
            code="credentials_in_query",
            detail="API keys are never accepted in the URL; send 'Authorization: Bearer <key>'.",
        )
    if "authorization" not in request.headers:
        return  # authentication answers first (401), then the parameters (422)
    unknown = sorted(set(request.query_params) - _allowed_query(route))
    if unknown:
        raise InvalidInput(
            code="unknown_parameter",
            detail=f"Unknown query parameter(s): {', '.join(unknown)}.",
            errors=[
                ErrorDetail(("query", name), "unknown parameter", "extra_forbidden")
                for name in unknown
            ],
        )
