"""RFC 9457 problem+json: the one shape of every 4xx and 5xx, from either door."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from pydantic import BaseModel, Field
from starlette.responses import Response

PROBLEM_TYPE_BASE = "https://pmo-api.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An error, per RFC 9457, with a stable ``code`` to branch on."""

    type: str = Field(examples=[PROBLEM_TYPE_BASE + "version_mismatch"])
    title: str
    status: int
    detail: str
    instance: str
    code: str = Field(description="Stable snake_case error code.")
    request_id: str
    errors: list[ProblemError] | None = None
    current_version: int | None = None


def problem_body(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str,
    request_id: str,
    errors: Sequence[Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        "request_id": request_id,
    }
    if errors:
        body["errors"] = [dict(e) for e in errors]
    for name, value in (extra or {}).items():
        if name != "retry_after":
            body[name] = value
    return body


def problem_response(body: dict[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        content=orjson.dumps(body),
        status_code=body["status"],
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )
