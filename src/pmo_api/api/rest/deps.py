"""FastAPI dependencies of the REST door: the unit of work and the query-parameter check
(what both doors read from a request is in ``api/requests.py``)."""

from __future__ import annotations

import functools
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.responses import Response

from pmo_api.api.requests import app_state as app_state
from pmo_api.api.requests import caller as caller
from pmo_api.api.requests import check_query as check_query
from pmo_api.api.requests import request_id as request_id
from pmo_api.core.context import Principal, ServiceContext
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


async def reject_unknown_query(request: Request) -> None:
    """Unknown query parameters are refused on every route, not silently ignored."""
    check_query(request)


Parser = Callable[[Request], Any]
"""Reads one declared parameter off a request, validated as FastAPI would."""


def serve_directly(
    endpoint: Callable[..., Any],
    serve: Callable[..., Awaitable[Response]],
    *parsers: Parser,
    authenticated: bool = True,
) -> None:
    """Serve ``endpoint``'s GET and HEAD by ``serve(request, *parsed)`` without FastAPI's
    dependency solving (see ``api/routing.py``); the route's declaration stays for the
    contract and for any other method. The checks are the declared ones, in FastAPI's
    order: unknown query parameters, the caller (unless the route needs none), then
    every parameter, whose errors are refused together in one 422."""

    async def handler(request: Request) -> Response:
        check_query(request)
        if authenticated:
            await caller(request)
        parsed: list[Any] = []
        errors: list[Any] = []
        for parse in parsers:
            try:
                parsed.append(parse(request))
            except RequestValidationError as error:
                errors.extend(error.errors())
        if errors:
            raise RequestValidationError(errors)
        return await serve(request, *parsed)

    endpoint.direct = handler  # type: ignore[attr-defined]


def path_parser(adapter: TypeAdapter[Any], name: str = "id") -> Parser:
    """A path parameter validated as its declaration would be (422 ``path`` errors)."""

    def parse(request: Request) -> Any:
        try:
            return adapter.validate_python(request.path_params[name])
        except ValidationError as error:
            raise RequestValidationError(_located(error, ("path", name))) from None

    return parse


def query_parser(model: type[BaseModel]) -> Parser:
    """A list's query parameters validated into its query model, as FastAPI reads a
    query model: repeated parameters for list fields, the last value otherwise."""

    empty: list[Any] = []  # the model of no parameters, once it has validated

    def parse(request: Request) -> Any:
        if empty and not request.scope.get("query_string"):
            return empty[0]
        params = request.query_params
        values: dict[str, Any] = {}
        for name, field in model.model_fields.items():
            key = field.alias or name
            if key in params:
                sequence = _is_sequence(field.annotation)
                values[key] = params.getlist(key) if sequence else params[key]
        try:
            parsed = model.model_validate(values)
        except ValidationError as error:
            raise RequestValidationError(_located(error, ("query",))) from None
        if not values and not empty:
            empty.append(parsed)
        return parsed

    return parse


def _located(error: ValidationError, where: tuple[str, ...]) -> list[dict[str, Any]]:
    """The errors located as FastAPI locates them: ``(path, name)``, ``(query, field)``."""
    return [{**item, "loc": (*where, *item["loc"])} for item in error.errors(include_url=False)]


@functools.cache
def _sequence_annotation(annotation: Any) -> bool:
    for candidate in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(candidate) in (list, set, tuple, frozenset):
            return True
    return False


def _is_sequence(annotation: Any) -> bool:
    try:
        return _sequence_annotation(annotation)
    except TypeError:  # unhashable annotation
        return False
