"""JSON logs: one object a line, with the request id of the request it serves."""

from __future__ import annotations

import io
import json
import logging

from pmo_api.logs import JsonFormatter, RequestIdFilter
from tests.conftest import Api


async def test_access_log_is_json_with_request_id(api: Api) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    access = logging.getLogger("pmo_api.access")
    access.addHandler(handler)
    previous = access.level
    access.setLevel(logging.INFO)
    try:
        response = await api.get("/api/v1/projects", headers={"X-Request-ID": "log-check-1"})
    finally:
        access.removeHandler(handler)
        access.setLevel(previous)
    assert response.status_code == 200
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    entry = next(line for line in lines if line.get("request_id") == "log-check-1")
    assert entry["path"] == "/api/v1/projects"
    assert entry["status"] == 200
    assert entry["method"] == "GET"
    assert entry["level"] == "info"
    assert isinstance(entry["duration_ms"], float)
