"""One pure-ASGI middleware for what every request shares: request id, body limits,
content types, security headers, the access log and the request metrics; and CORS,
when a deployment allows browser origins."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pmo_api.api import ratelimit
from pmo_api.api.problems import problem_body, problem_response
from pmo_api.db.errors import RETRY_AFTER_SECONDS, is_unavailable
from pmo_api.logs import api_key_id_var, request_id_var
from pmo_api.telemetry import UNMATCHED, observe_request

log = logging.getLogger("pmo_api.access")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_JSON_TYPES = ("application/json", "application/merge-patch+json")


class BodyTooLarge(Exception):
    pass


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in _JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


class RequestMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        token = request_id_var.set(request_id)
        key_token = api_key_id_var.set(None)  # set once the caller is known (api/requests)
        started = time.perf_counter()
        status_holder: dict[str, int] = {"status": 500}
        path: str = scope["path"]
        authenticated = _header(scope, b"authorization") is not None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = 1
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                headers.append((b"x-content-type-options", b"nosniff"))
                wants_no_store = authenticated or path.startswith(("/api/", "/graphql"))
                if wants_no_store and not any(k == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                headers.extend(ratelimit.headers(state))  # when the caller's key was charged
                message["headers"] = headers
            await send(message)

        try:
            refusal = self._refuse(scope, request_id)
            if refusal is not None:
                await refusal(scope, receive, send_with_headers)
                return
            try:
                await self.app(scope, self._limited(receive), send_with_headers)
            except BodyTooLarge:
                await self._too_large(scope, request_id)(scope, receive, send_with_headers)
            except Exception as error:
                # The last line of defence: masked, logged once (as JSON, with the
                # request id), and never re-raised into the server's own logging.
                if isinstance(error, ClientDisconnect):
                    # The client went away mid-request: nobody to answer, nothing failed.
                    status_holder["status"] = 499
                    return
                if status_holder.get("started"):
                    log.exception("error after the response started")
                    return
                if is_unavailable(error):
                    response = problem_response(
                        problem_body(
                            status=503,
                            code="database_unavailable",
                            title="Service unavailable",
                            detail="The database is unreachable or busy; retry shortly.",
                            instance=path,
                            request_id=request_id,
                        ),
                        {"Retry-After": str(RETRY_AFTER_SECONDS)},
                    )
                else:
                    log.exception("unhandled error", extra={"path": path})
                    response = self._problem(
                        scope,
                        request_id,
                        500,
                        "internal_error",
                        "Internal server error",
                        "Something went wrong on our side; quote the request_id when reporting it.",
                    )
                await response(scope, receive, send_with_headers)
        finally:
            seconds = time.perf_counter() - started
            status = status_holder["status"]
            # The route's template, put in the scope by the routing (api/routing.py, or
            # FastAPI's own matching); none when no route matched (or before routing).
            route = getattr(scope.get("route"), "path", UNMATCHED)
            observe_request(route, scope["method"], status, seconds)
            log.info(
                "%s %s %s",
                scope["method"],
                path,
                status,
                extra={
                    "method": scope["method"],
                    "path": path,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )
            api_key_id_var.reset(key_token)
            request_id_var.reset(token)

    def _problem(
        self, scope: Scope, request_id: str, status: int, code: str, title: str, detail: str
    ) -> Any:
        return problem_response(
            problem_body(
                status=status,
                code=code,
                title=title,
                detail=detail,
                instance=scope["path"],
                request_id=request_id,
            )
        )

    def _too_large(self, scope: Scope, request_id: str) -> Any:
        return self._problem(
            scope,
            request_id,
            413,
            "body_too_large",
            "Payload too large",
            f"The request body exceeds {self.max_body_bytes} bytes.",
        )

    def _refuse(self, scope: Scope, request_id: str) -> Any:
        length = _header(scope, b"content-length")
        if length is not None:
            if not length.isdigit():
                return self._problem(
                    scope,
                    request_id,
                    400,
                    "bad_content_length",
                    "Bad request",
                    "Content-Length is not a number.",
                )
            if int(length) > self.max_body_bytes:
                return self._too_large(scope, request_id)
        if scope["method"] in _BODY_METHODS and scope["path"].startswith("/api/"):
            has_body = (length is not None and int(length) > 0) or (
                _header(scope, b"transfer-encoding") is not None
            )
            content_type = _header(scope, b"content-type")
            if has_body and (content_type is None or not _is_json(content_type)):
                return self._problem(
                    scope,
                    request_id,
                    415,
                    "unsupported_media_type",
                    "Unsupported media type",
                    "Send the body as application/json.",
                )
        return None

    def _limited(self, receive: Receive) -> Receive:
        limit = self.max_body_bytes
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        return limited


class CorsMiddleware(CORSMiddleware):
    """Starlette's CORS for the origins a deployment allows (``PMO_CORS_ORIGINS``); the
    app installs it only when there are some, outside RequestMiddleware so that the
    responses RequestMiddleware makes itself (413, 415, 500, 503) carry it too.

    Keys travel in the Authorization header, never in cookies: no credentials mode. A
    preflight it refuses (origin, method or header not allowed) goes on to the app as
    if CORS were off (a 405 problem+json with Allow, no Access-Control-* header).
    """

    def __init__(self, app: ASGIApp, *, origins: Sequence[str]) -> None:
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=("GET", "POST", "PATCH", "DELETE"),
            allow_headers=(
                "Authorization",
                "Idempotency-Key",
                "If-Match",
                "If-None-Match",
                "X-Request-ID",
            ),
            expose_headers=(
                "ETag",
                "Location",
                "Retry-After",
                "Idempotent-Replayed",
                "RateLimit",
                "RateLimit-Policy",
                "WWW-Authenticate",
                "X-Request-ID",
            ),
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            headers = Headers(scope=scope)
            if "origin" in headers and "access-control-request-method" in headers:
                response = self.preflight_response(request_headers=headers)
                if response.status_code != 200:
                    await self.app(scope, receive, send)
                    return
                response.headers["X-Content-Type-Options"] = "nosniff"
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
