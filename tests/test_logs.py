"""JSON logs: one object a line, with the request id of the request it serves and the id
of the API key that made it (never its secret)."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from pmo_api.logs import JsonFormatter, RequestIdFilter, api_key_id_var, request_id_var
from pmo_api.projects.declaration import ProjectRepository
from tests.conftest import Api, new_key


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


@contextmanager
def every_log_line() -> Iterator[io.StringIO]:
    """Everything the service's loggers write (DEBUG and up), as its handler writes it;
    not the test's HTTP client's (httpx logs the URLs it asks for)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(lambda record: not record.name.startswith(("httpx", "httpcore")))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def lines_of(stream: io.StringIO, request_id: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line.get("request_id") == request_id]


def access_line(stream: io.StringIO, request_id: str) -> dict[str, Any]:
    (line,) = [e for e in lines_of(stream, request_id) if e["logger"] == "pmo_api.access"]
    return line


async def test_log_lines_name_the_api_key_and_never_its_secret(api: Api) -> None:
    created = await api.post("/api/v1/api-keys", json={"name": "log check", "role": "pmo"})
    assert created.status_code == 201, created.text
    key_id, secret = created.json()["id"], created.json()["secret"]
    bearer = {"Authorization": f"Bearer {secret}"}
    portfolio = {"key": new_key("PF"), "name": "Logged"}
    with every_log_line() as stream:
        calls = {
            "read": await api.http.get(
                "/api/v1/projects", headers={**bearer, "X-Request-ID": "key-read"}
            ),
            "write": await api.http.post(
                "/api/v1/portfolios",
                json=portfolio,
                headers={**bearer, "X-Request-ID": "key-write"},
            ),
            "graphql": await api.http.post(
                "/graphql",
                json={"query": "{ projects(first: 1) { nodes { key } } }"},
                headers={**bearer, "X-Request-ID": "key-graphql"},
            ),
            "wrong key": await api.http.get(
                "/api/v1/projects",
                headers={"Authorization": f"Bearer {secret}x", "X-Request-ID": "key-wrong"},
            ),
            "key in the URL": await api.http.get(
                "/api/v1/projects", params={"api_key": secret}, headers={"X-Request-ID": "key-url"}
            ),
        }
    statuses = {name: response.status_code for name, response in calls.items()}
    assert statuses == {
        "read": 200,
        "write": 201,
        "graphql": 200,
        "wrong key": 401,
        "key in the URL": 401,
    }, {name: response.text for name, response in calls.items()}
    assert "errors" not in calls["graphql"].json(), calls["graphql"].text

    output = stream.getvalue()
    assert secret not in output  # nor any longer string holding it (the wrong key)
    assert "Bearer" not in output and "authorization" not in output.lower()
    for request_id in ("key-read", "key-write", "key-graphql"):
        line = access_line(stream, request_id)
        assert line["api_key_id"] == key_id, line
        assert line["pid"] == os.getpid()
    for request_id in ("key-wrong", "key-url"):
        line = access_line(stream, request_id)
        assert line["status"] == 401 and "api_key_id" not in line, line
    assert access_line(stream, "key-url")["path"] == "/api/v1/projects"  # no query string


async def test_every_line_logged_during_a_request_names_its_api_key(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only the access line: a line a service writes, and the masked error's."""
    created = await api.post("/api/v1/api-keys", json={"name": "log check", "role": "viewer"})
    key_id, secret = created.json()["id"], created.json()["secret"]

    async def explode(*_args: object) -> None:
        logging.getLogger("pmo_api.projects").warning("about to fail")
        raise RuntimeError("boom")

    monkeypatch.setattr(ProjectRepository, "read", explode)
    monkeypatch.setattr(ProjectRepository, "get", explode)
    with every_log_line() as stream:
        response = await api.http.get(
            "/api/v1/projects/ABC-1",
            headers={"Authorization": f"Bearer {secret}", "X-Request-ID": "key-error"},
        )
    assert response.status_code == 500, response.text
    lines = lines_of(stream, "key-error")
    assert {line["msg"] for line in lines} >= {"about to fail", "unhandled error"}, lines
    assert all(line["api_key_id"] == key_id for line in lines), lines
    assert secret not in stream.getvalue()
    # After the request, nothing is stamped with its key any more.
    assert api_key_id_var.get() is None and request_id_var.get() is None
