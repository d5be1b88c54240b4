"""How a request finds its route: one flat table of routes and an index over it.

FastAPI keeps each ``include_router`` as a nested router and, for every request, walks
the nesting and tries each route's pattern in turn; with about a hundred operations
that walk cost more CPU than the whole of a hand-written server's request (measured
by ``make bench``: the framework floor, ``/healthz``, spent most of its time there).
So the doors' routers are not included but *mounted*: their routes are copied onto
the application's own router with the prefix put in front (``mount``), and a
``RouteIndex`` sits where FastAPI's matching would run. It groups the routes by the
number of path segments and their leading literal segments, tries the patterns of
the few routes in the group, and hands the request to the route exactly as FastAPI
does (``endpoint``, ``path_params`` and ``route`` in the scope, then ``route.handle``),
inside FastAPI's middleware stack, so exception handlers and dependencies work as
before. Anything the index does not serve (an unknown path, a method the path does
not allow, the GraphQL door, the docs) goes on to FastAPI's own matching, which
answers 404, 405 with ``Allow``, and the rest.

``HEAD`` is served wherever ``GET`` is: the route runs as a GET and the body is
dropped, the headers (``Content-Length``, ``ETag``) kept, as RFC 9110 asks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette._exception_handler import wrap_app_handling_exceptions
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_LEADING = 3
"""Literal segments a route's group is keyed on (``api``, ``v1``, ``projects``)."""


def mount(app: FastAPI, router: APIRouter, prefix: str = "") -> None:
    """Copy ``router``'s routes onto the application's router, below ``prefix``.

    The route keeps everything it was declared with; the application's own
    dependencies (``FastAPI(dependencies=...)``) are added in front, as
    ``include_router`` would."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"only API routes can be mounted, not {route!r}")
        app.router.add_api_route(
            prefix + route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=list(route.tags),
            dependencies=list(route.dependencies),
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=dict(route.responses),
            deprecated=route.deprecated,
            methods=sorted(route.methods or ()),
            operation_id=route.operation_id,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
        )


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/")


def _group_key(segments: Sequence[str]) -> tuple[int, tuple[str, ...]] | None:
    lead = tuple(segments[:_LEADING])
    if any(part.startswith("{") for part in lead):
        return None
    return len(segments), lead


class RouteIndex:
    """The application's route matching, by index; FastAPI's own as the fallback."""

    def __init__(self, router: APIRouter, fallback: ASGIApp) -> None:
        self.router = router
        self.fallback = fallback
        self._groups: dict[tuple[int, tuple[str, ...]], list[APIRoute]] | None = None

    def _build(self) -> dict[tuple[int, tuple[str, ...]], list[APIRoute]]:
        groups: dict[tuple[int, tuple[str, ...]], list[APIRoute]] = defaultdict(list)
        for route in self.router.routes:
            if isinstance(route, APIRoute):
                key = _group_key(_segments(route.path))
                if key is not None:
                    groups[key].append(route)
        return dict(groups)

    def _find(self, path: str, method: str) -> tuple[APIRoute, dict[str, Any]] | None:
        groups = self._groups
        if groups is None:  # built on the first request: every route is declared by then
            groups = self._groups = self._build()
        segments = _segments(path)
        candidates = groups.get((len(segments), tuple(segments[:_LEADING])))
        if not candidates:
            return None
        for route in candidates:
            if method not in (route.methods or ()):
                continue
            match = route.path_regex.match(path)
            if match is None:
                continue
            convertors = route.param_convertors
            params = {
                name: convertors[name].convert(value) for name, value in match.groupdict().items()
            }
            return route, params
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.fallback(scope, receive, send)
            return
        method: str = scope["method"]
        head = method == "HEAD"
        found = self._find(scope["path"], "GET" if head else method)
        if found is None:
            await self.fallback(scope, receive, send)
            return
        route, params = found
        scope.setdefault("router", self.router)
        scope["endpoint"] = route.endpoint
        scope["path_params"] = params
        scope["route"] = route
        if head:
            scope, send = {**scope, "method": "GET"}, _without_body(send)
        if method == "POST" and hasattr(route.endpoint, "direct_post"):
            await self._post(route, scope, receive, send)
            return
        handler = getattr(route.endpoint, "direct", None)
        if handler is None or scope["method"] != "GET":
            await route.handle(scope, receive, send)
            return
        # A read served without FastAPI's dependency solving, under the same exception
        # handlers (see api/rest/deps.serve_directly).
        request = Request(scope, receive)

        async def serve(scope: Scope, receive: Receive, send: Send) -> None:
            response = await handler(request)
            await response(scope, receive, send)

        await wrap_app_handling_exceptions(serve, request)(scope, receive, send)

    async def _post(self, route: APIRoute, scope: Scope, receive: Receive, send: Send) -> None:
        """A POST its route serves directly when it can (``api/rest/crud.py``'s create in
        one statement); when the direct handler answers None, the route serves it the
        ordinary way, with the body it read handed over again."""
        handler = route.endpoint.direct_post  # type: ignore[attr-defined]
        request = Request(scope, receive)
        fall_back = False

        async def serve(scope: Scope, receive: Receive, send: Send) -> None:
            nonlocal fall_back
            response = await handler(request)
            if response is None:
                fall_back = True
                return
            await response(scope, receive, send)

        await wrap_app_handling_exceptions(serve, request)(scope, receive, send)
        if fall_back:
            body: bytes | None = getattr(request, "_body", None)
            await route.handle(scope, receive if body is None else _replaying(body, receive), send)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """``receive`` with the request's body, already read, given first."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _without_body(send: Send) -> Send:
    async def send_headers_only(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return send_headers_only


def install(app: FastAPI) -> None:
    """Put a ``RouteIndex`` where the application's router matches routes."""
    router = app.router
    router.middleware_stack = RouteIndex(router, router.middleware_stack)
