"""The REST side of idempotent POSTs: header in, stored response out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import orjson
from fastapi import Header, Request
from starlette.responses import Response

from pmo_api.api.rest.deps import app_state
from pmo_api.core.context import ServiceContext
from pmo_api.idempotency.service import StoredResponse, claim, complete, request_fingerprint

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retrying with the same key and body replays the first response (48 h).",
    ),
]

_REPLAYED_HEADERS = ("location", "etag")


def canonical(body: bytes) -> bytes:
    try:
        return canonical_of(orjson.loads(body))
    except orjson.JSONDecodeError:
        return body


def canonical_of(parsed: object) -> bytes:
    """``canonical`` of a body already parsed."""
    return orjson.dumps(parsed, option=orjson.OPT_SORT_KEYS)


async def idempotent(
    ctx: ServiceContext,
    request: Request,
    key: str | None,
    produce: Callable[[], Awaitable[Response]],
) -> Response:
    if key is None:
        return await produce()
    fingerprint = request_fingerprint(
        request.method, request.url.path, canonical(await request.body())
    )
    ttl = app_state(request).settings.idempotency_ttl_hours
    claimed = await claim(ctx, key, fingerprint, ttl)
    if isinstance(claimed, StoredResponse):
        return replay(claimed)
    response = await produce()
    await complete(
        ctx,
        claimed,
        StoredResponse(response.status_code, replayed_headers(response), bytes(response.body)),
    )
    return response


def replay(stored: StoredResponse) -> Response:
    return Response(
        content=stored.body,
        status_code=stored.status_code,
        headers={**stored.headers, "Idempotent-Replayed": "true"},
        media_type="application/json",
    )


def replayed_headers(response: Response) -> dict[str, str]:
    """The headers a replay repeats."""
    return {k: response.headers[k] for k in _REPLAYED_HEADERS if k in response.headers}
