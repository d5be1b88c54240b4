"""Every error, translated once into problem+json."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import compile_path

from pmo_api.api.middleware import BodyTooLarge
from pmo_api.api.problems import problem_body, problem_response
from pmo_api.api.rest.deps import request_id
from pmo_api.core.errors import DomainError, Unauthenticated
from pmo_api.core.schemas import RULE_ERRORS

log = logging.getLogger("pmo_api.errors")

_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthenticated", "Unauthenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    413: ("body_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
}


def _problem(
    request: Request,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = problem_body(
        status=status,
        code=code,
        title=title,
        detail=detail,
        instance=request.url.path,
        request_id=request_id(request),
        errors=errors,
        extra=extra,
    )
    return problem_response(body, headers)


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="pmo-api"'
    if "retry_after" in exc.extra:
        headers["Retry-After"] = str(exc.extra["retry_after"])
    errors = [{"loc": list(e.loc), "msg": e.msg, "type": e.type} for e in exc.errors]
    return _problem(
        request, exc.status, exc.code, exc.title, exc.detail, errors or None, exc.extra, headers
    )


def _loc(loc: tuple[Any, ...]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    if any(e.get("type") == "json_invalid" for e in raw):
        return _problem(
            request, 400, "malformed_json", "Bad request", "The body is not valid JSON."
        )
    errors = [{"loc": _loc(e["loc"]), "msg": str(e["msg"]), "type": str(e["type"])} for e in raw]
    if errors and all(e["loc"][:1] == ["path"] for e in errors):
        return _problem(
            request,
            422,
            "invalid_identifier",
            "Invalid input",
            f"{raw[0].get('input')!r} is not a valid identifier here.",
            errors,
        )
    where = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors[:5])
    # A request whose every fault is a rule between two of its values (an end before its
    # start), which no schema states, is refused under that rule's own code.
    rules = {str(e["type"]) for e in raw}
    code = rules.pop() if len(rules) == 1 and rules <= RULE_ERRORS else "validation_failed"
    return _problem(
        request,
        422,
        code,
        "Invalid input",
        f"The request is not valid: {where}.",
        errors,
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, BodyTooLarge):
        return _problem(
            request,
            413,
            "body_too_large",
            "Payload too large",
            "The request body exceeds the size limit.",
        )
    code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404:
        detail = f"No route {request.url.path}."
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed here."
        allowed = allowed_methods(request.app, request.url.path)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    return _problem(request, exc.status_code, code, title, detail, headers=headers)


def served_routes(app: Starlette) -> list[tuple[str, frozenset[str]]]:
    """Every (path template, methods) the app really serves, included routers flattened
    (FastAPI wraps them in a private route type that offers ``effective_route_contexts``)."""
    served: list[tuple[str, frozenset[str]]] = []
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        found = (
            [(c.path, getattr(c.original_route, "methods", None)) for c in contexts()]
            if contexts is not None
            else [(getattr(route, "path", None), getattr(route, "methods", None))]
        )
        served += [(path, frozenset(methods)) for path, methods in found if path and methods]
    return served


def allowed_methods(app: Starlette, path: str) -> list[str]:
    """Every method some route serves on this path (the router reports only the first
    route's), taken from the routes themselves: documented or not, what ``Allow`` says
    is what the app answers."""
    table: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        app.state, "allowed_methods_table", None
    )
    if table is None:
        table = [(compile_path(template)[0], methods) for template, methods in served_routes(app)]
        app.state.allowed_methods_table = table
    found: set[str] = set()
    for pattern, methods in table:
        if pattern.match(path):
            found |= methods
    return sorted(found)


async def body_too_large(request: Request, exc: Exception) -> Response:
    return _problem(
        request,
        413,
        "body_too_large",
        "Payload too large",
        "The request body exceeds the size limit.",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(BodyTooLarge, body_too_large)
