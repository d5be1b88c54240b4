"""FastAPI dependencies shared by both doors: who calls, and the unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.api.state import AppState
from pmo_api.auth.service import authenticate
from pmo_api.core.context import Principal, ServiceContext
from pmo_api.core.errors import ErrorDetail, InvalidInput, Unauthenticated
from pmo_api.db.transaction import unit_of_work

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.pmo
    return state


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def _bearer_secret(request: Request) -> str:
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


async def authenticate_request(session: AsyncSession, request: Request) -> Principal:
    """The caller of a request (both doors), or Unauthenticated."""
    secret = _bearer_secret(request)
    principal = await authenticate(session, secret)
    if principal is None:
        raise Unauthenticated(
            code="invalid_credentials", detail="The API key is unknown or revoked."
        )
    return principal


async def service_context(request: Request) -> AsyncIterator[ServiceContext]:
    """The unit of work of one request: authenticate, run, commit once (or roll back)."""
    state = app_state(request)
    sessions = state.read_sessions if request.method in _SAFE_METHODS else state.sessions
    async with unit_of_work(sessions) as session:
        principal = await authenticate_request(session, request)
        yield ServiceContext(session=session, principal=principal, request_id=request_id(request))


# scope="function": the commit happens before the response is sent, so a failed
# commit is answered with an error and never with the success it would contradict.
Ctx = Annotated[ServiceContext, Depends(service_context, scope="function")]


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


async def reject_unknown_query(request: Request) -> None:
    """Unknown query parameters are refused on every route, not silently ignored."""
    route = request.scope.get("route")
    if route is None or not request.query_params:
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
