"""FastAPI dependencies of the REST door: the unit of work and the query-parameter check
(what both doors read from a request is in ``api/requests.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel

from pmo_api.api.requests import app_state as app_state
from pmo_api.api.requests import caller
from pmo_api.api.requests import request_id as request_id
from pmo_api.core.context import Principal, ServiceContext
from pmo_api.core.errors import ErrorDetail, InvalidInput, Unauthenticated
from pmo_api.db.transaction import unit_of_work, unit_of_work_on_demand

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@asynccontextmanager
async def request_context(request: Request) -> AsyncIterator[ServiceContext]:
    """The unit of work of one request: authenticate, run, commit once (or roll back).

    A read (GET, HEAD) opens no session unless its service asks for one: the caller is
    found in the key cache or through the reads, and its rows come from the reads.

    The generic routes (crud.py, children.py) enter it in their own body rather than as
    a FastAPI dependency: a generator dependency costs FastAPI an exit stack and a
    shielded context per request, a fifth of a single read's CPU (``make bench``).
    They declare ``Caller`` instead, so that the key is still checked before the
    parameters (401 before 422)."""
    state = app_state(request)
    principal = await caller(request)
    if request.method in _SAFE_METHODS:
        async with unit_of_work_on_demand(state.read_sessions) as unit:
            yield ServiceContext(
                None, principal, request_id(request), state.reads, open_session=unit.open
            )
        return
    async with unit_of_work(state.sessions) as session:
        yield ServiceContext(session, principal, request_id(request))


async def service_context(request: Request) -> AsyncIterator[ServiceContext]:
    """``request_context`` as a dependency (``Ctx``)."""
    async with request_context(request) as ctx:
        yield ctx


Caller = Annotated[Principal, Depends(caller)]
"""The authenticated caller, as a plain (cheap) dependency; see ``request_context``."""

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
