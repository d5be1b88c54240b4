"""OpenAPI documentation of error responses, so every answer a route gives is described."""

from __future__ import annotations

from typing import Any

from pmo_api.api.problems import PROBLEM_MEDIA_TYPE, Problem

_DESCRIPTIONS = {
    304: "Not modified (If-None-Match matched).",
    400: "Malformed request (for example, invalid JSON).",
    401: "Missing, malformed, unknown or revoked API key.",
    403: "The key's role or the object rules forbid this.",
    404: "No such resource, or not visible to this key.",
    405: "Method not allowed.",
    409: "Conflict with the current state (duplicate key, concurrent change...).",
    412: "If-Match does not match the current version.",
    413: "Body too large.",
    415: "Body is not JSON.",
    422: "Invalid input: see errors[].",
    503: "Database unreachable or busy; see Retry-After.",
}

COMMON = (400, 401, 403, 422, 503)


def problems(*statuses: int, read: bool = False) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the common problems plus the route's own."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*COMMON, *statuses}):
        if status == 304:
            out[304] = {"description": _DESCRIPTIONS[304]}
            continue
        # "model" registers the Problem schema; app.openapi() keeps only the
        # problem+json media type for these responses.
        out[status] = {
            "description": _DESCRIPTIONS[status],
            "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return out


CSV_PAGE = {
    "description": "A page of the list; as CSV with `format=csv` or `Accept: text/csv`.",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}


CSV_FIGURES = {
    "description": "The figures; as one CSV row with `format=csv` or `Accept: text/csv`.",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}

CHART_FIGURES = {
    "description": "The figures; as CSV with `format=csv` or `Accept: text/csv`; as an "
    "SVG chart with `format=svg` or `Accept: image/svg+xml`.",
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "image/svg+xml": {"schema": {"type": "string"}},
    },
}


def list_problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a list route: JSON or CSV pages, plus the problems."""
    return {200: CSV_PAGE, **problems(304, *statuses)}
