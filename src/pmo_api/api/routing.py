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
inside FastAPI's exception middleware, so exception handlers and dependencies work as
before. A route that serves itself without dependency solving is entered earlier, at
the ``FrontDoor`` (see ``Service``). Anything the index does not serve (an unknown
path, a method the path does not allow, the GraphQL door, the docs) goes on to
FastAPI's own matching, which answers 404, 405 with ``Allow``, and the rest.

``HEAD`` is served wherever ``GET`` is: the route runs as a GET and the body is
dropped, the headers (``Content-Length``, ``ETag``) kept, as RFC 9110 asks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
from fastapi.routing import APIRoute
from starlette._exception_handler import wrap_app_handling_exceptions
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_LEADING = 3
"""Literal segments a route's group is keyed on (``api``, ``v1``, ``projects``)."""


def mount(app: FastAPI, router: APIRouter, prefix: str = "") -> None:
    """Copy ``router``'s routes onto the application's router, below ``prefix``.

    The route keeps everything it was declared with; the application's own
    dependencies (``FastAPI(dependencies=...)``) are added in front, as
    ``include_router`` would. A WebSocket route is served as a plain one (its endpoint
    takes the socket alone): the application's dependencies read HTTP requests."""
    for route in router.routes:
        if isinstance(route, WebSocketRoute):
            app.router.routes.append(
                WebSocketRoute(prefix + route.path, route.endpoint, name=route.name)
            )
            continue
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

    def find(self, path: str, method: str) -> tuple[APIRoute, dict[str, Any]] | None:
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

    def enter(self, scope: Scope, route: APIRoute, params: dict[str, Any]) -> None:
        """What FastAPI's matching puts in the scope for the route it found."""
        scope.setdefault("router", self.router)
        scope["endpoint"] = route.endpoint
        scope["path_params"] = params
        scope["route"] = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.fallback(scope, receive, send)
            return
        method: str = scope["method"]
        head = method == "HEAD"
        found = scope.pop(_FOUND, None) or self.find(scope["path"], "GET" if head else method)
        if found is None:
            await self.fallback(scope, receive, send)
            return
        route, params = found
        self.enter(scope, route, params)
        if head:
            scope, send = {**scope, "method": "GET"}, _without_body(send)
        await route.handle(scope, receive, send)


_FOUND = "pmo.route"
"""The route the front door found and left to the ordinary way (not looked up twice)."""


class FrontDoor:
    """Where a request enters the application, inside the request middleware.

    A route that can be served without FastAPI's dependency solving (``direct`` for GET
    and HEAD, ``direct_post`` for POST: ``api/rest/deps.serve_directly``,
    ``api/rest/crud.py``'s create in one statement, the GraphQL door) is served from
    here, under the same exception handlers; every other request goes the ordinary way
    (``ordinary``: FastAPI's exception middleware, its exit stack and the router).
    Entering the handler here skips five layers a request otherwise passes through
    twice (in and out), measured by ``make bench`` at a twentieth of a single read's
    CPU."""

    def __init__(
        self,
        index: RouteIndex,
        handlers: tuple[dict[Any, Any], dict[int, Any]],
        ordinary: ASGIApp,
    ) -> None:
        self.index = index
        self.handlers = handlers
        self.ordinary = ordinary

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method: str = scope["method"]
            head = method == "HEAD"
            found = self.index.find(scope["path"], "GET" if head else method)
            if found is not None:
                route, params = found
                if method == "POST":
                    post = getattr(route.endpoint, "direct_post", None)
                    if post is not None:
                        self._enter(scope, route, params)
                        await self._post(post, found, scope, receive, send)
                        return
                elif method == "GET" or head:
                    get = getattr(route.endpoint, "direct", None)
                    if get is not None:
                        self._enter(scope, route, params)
                        if head:
                            scope, send = {**scope, "method": "GET"}, _without_body(send)
                        await self._get(get, scope, receive, send)
                        return
                scope[_FOUND] = found
        await self.ordinary(scope, receive, send)

    def _enter(self, scope: Scope, route: APIRoute, params: dict[str, Any]) -> None:
        self.index.enter(scope, route, params)
        scope["starlette.exception_handlers"] = self.handlers

    async def _get(self, handler: Any, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)

        async def serve(scope: Scope, receive: Receive, send: Send) -> None:
            response = await handler(request)
            await response(scope, receive, send)

        await wrap_app_handling_exceptions(serve, request)(scope, receive, send)

    async def _post(
        self,
        handler: Any,
        found: tuple[APIRoute, dict[str, Any]],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        """A POST its route serves directly when it can; when the direct handler answers
        None, the ordinary way serves it, with the body it read handed over again."""
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
            scope[_FOUND] = found
            await self.ordinary(scope, receive if body is None else _replaying(body, receive), send)


class Service(FastAPI):
    """FastAPI, entered through a ``FrontDoor``.

    The middleware stack is the application's own middleware (the request middleware,
    CORS when configured) around the front door, which serves the direct routes and
    hands the rest to FastAPI's exception middleware, its exit stack and the router.
    FastAPI's outer layers are left out: its server-error middleware (the request
    middleware is the last line of defence: it answers a masked 500 problem, or 503
    when the database is unreachable, and logs the error once), its telemetry bridge
    (off) and its body limit (the request middleware enforces ``PMO_MAX_BODY_BYTES``)."""

    def build_middleware_stack(self) -> ASGIApp:
        if any(key in (500, Exception) for key in self.exception_handlers):
            raise TypeError("the request middleware answers unhandled errors; no 500 handler")
        index = self.router.middleware_stack
        if not isinstance(index, RouteIndex):
            raise TypeError("routing.install(app) puts the route index in place first")
        ordinary = ExceptionMiddleware(
            AsyncExitStackMiddleware(self.router),
            handlers=dict(self.exception_handlers),
            debug=self.debug,
        )
        handlers = (ordinary._exception_handlers, ordinary._status_handlers)
        app: ASGIApp = FrontDoor(index, handlers, ordinary)
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app


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
