"""Exports: ``GET /api/v1/exports/{resource}``, a whole collection as NDJSON or CSV,
filtered and sorted as its list, streamed from a server-side cursor.

These run on a database of their own (20,000 projects would crowd the lists the other
modules read), on both backends."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import random
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import insert, select

from pmo_api.api.rest.exports import OPERATIONS
from pmo_api.control import RESOURCES
from pmo_api.core.context import utcnow
from pmo_api.core.errors import Unavailable
from pmo_api.db.streams import RowStreams
from pmo_api.portfolios.models import Portfolio
from pmo_api.projects.models import Project
from pmo_api.resources.exports import BATCH
from tests.conftest import BACKENDS, Api, new_key, start_api
from tests.test_rest_conventions import assert_problem

MANY = 20_000
NDJSON = "application/x-ndjson"
STATUSES = ("proposed", "active", "on_hold", "completed")
HEALTHS = ("green", "amber", "red")


class Seeded:
    def __init__(self, api: Api, portfolio_id: str, rows: list[dict[str, Any]]) -> None:
        self.api = api
        self.portfolio_id = portfolio_id
        self.rows = rows


async def _seed_projects(api: Api, count: int) -> tuple[str, list[dict[str, Any]]]:
    """``count`` projects in a portfolio of their own, inserted in bulk."""
    rng = random.Random(7)
    now = utcnow()
    portfolio_id = uuid.uuid4()
    rows = [
        {
            "id": uuid.uuid4(),
            "key": f"EX-{i:06d}",
            "name": f"exported {i}",
            "portfolio_id": portfolio_id,
            "status": STATUSES[i % len(STATUSES)],
            "health": HEALTHS[i % len(HEALTHS)],
            "priority_score": rng.randrange(0, 101),
            "planned_budget": Decimal(rng.randrange(0, 10**8)) / 100,
            "actual_cost": Decimal("0.00"),
            "percent_complete": i % 101,
            "attributes": {"row": i} if i % 5 == 0 else {},
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(count)
    ]
    async with api.app.state.pmo.engine.begin() as connection:
        await connection.execute(
            insert(Portfolio),
            [
                {
                    "id": portfolio_id,
                    "key": new_key("EXP"),
                    "name": "Exported",
                    "priority_weight_alignment": 50,
                    "priority_weight_value": 30,
                    "priority_weight_risk": 20,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        for start in range(0, count, 2000):
            await connection.execute(insert(Project), rows[start : start + 2000])
    return str(portfolio_id), rows


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=BACKENDS)
async def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Seeded]:
    api, stop = await start_api(request.param, tmp_path_factory.mktemp(f"exports-{request.param}"))
    try:
        response = await api.post("/api/v1/api-keys", json={"name": "viewer", "role": "viewer"})
        assert response.status_code == 201, response.text
        api.keys["viewer"] = response.json()["secret"]
        portfolio_id, rows = await _seed_projects(api, MANY)
        yield Seeded(api, portfolio_id, rows)
    finally:
        await stop()


async def _export(
    api: Api, path: str, role: str = "admin", **params: Any
) -> tuple[Any, list[dict[str, Any]]]:
    """The export's response and its records, read line by line as it streams."""
    async with api.http.stream(
        "GET", f"/api/v1/exports/{path}", params=params, headers=api.headers(role)
    ) as response:
        records = [json.loads(line) async for line in response.aiter_lines() if line]
    return response, records


async def _walk(api: Api, path: str, role: str = "admin", **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, page after page."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 200, **({"cursor": cursor} if cursor else {})}
        response = await api.get(f"/api/v1/{path}", role, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


# -- the whole collection, streamed -----------------------------------------------------------


async def test_twenty_thousand_projects_stream_each_once(seeded: Seeded) -> None:
    response, records = await _export(
        seeded.api, "projects", "viewer", portfolio_id=seeded.portfolio_id
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == NDJSON
    assert response.headers["content-disposition"] == 'attachment; filename="projects.ndjson"'
    ids = [record["id"] for record in records]
    assert len(ids) == MANY
    assert set(ids) == {str(row["id"]) for row in seeded.rows}
    keys = [record["key"] for record in records]
    assert keys == sorted(keys)  # the list's default order: by key


def _scope(api: Api, path: str, query: str, spec_version: str = "2.4") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": spec_version},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"test"), (b"authorization", f"Bearer {api.keys['admin']}".encode())],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }


async def _asgi_get(api: Api, path: str, query: str) -> tuple[int, list[bytes]]:
    """A GET straight into the app (httpx's ASGI transport gathers the whole body
    before it answers): the status and every body message the app sends."""
    status = 0
    bodies: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            bodies.append(message.get("body", b""))

    await api.app(_scope(api, path, query), receive, send)
    return status, bodies


async def test_the_rows_are_sent_a_batch_at_a_time(seeded: Seeded) -> None:
    """The body is not made whole first: it leaves in chunks of at most a batch."""
    status, bodies = await _asgi_get(
        seeded.api, "/api/v1/exports/projects", f"portfolio_id={seeded.portfolio_id}"
    )
    assert status == 200
    chunks = [body for body in bodies if body]
    assert len(chunks) >= MANY // BATCH
    assert max(chunk.count(b"\n") for chunk in chunks) <= BATCH
    assert sum(chunk.count(b"\n") for chunk in chunks) == MANY


def _checked_out(api: Api) -> int:
    pool: Any = api.app.state.pmo.engine.sync_engine.pool
    return int(pool.checkedout())


async def _read_one_chunk_then_fail(api: Api, query: str) -> int:
    """An ASGI 2.4 client whose connection fails on the second chunk: the chunks it got."""
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            if chunks:
                raise OSError("the client is gone")
            chunks.append(message["body"])

    await api.app(_scope(api, "/api/v1/exports/projects", query), receive, send)
    return len(chunks)


async def _read_one_chunk_then_disconnect(api: Api, query: str) -> int:
    """A client (ASGI before 2.4) that reads one chunk, then disconnects while the next
    is being sent: the chunks it got."""
    gone = asyncio.Event()
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message["body"])
            gone.set()
            await asyncio.Event().wait()  # the client reads no more

    scope = _scope(api, "/api/v1/exports/projects", query, spec_version="2.3")
    await asyncio.wait_for(api.app(scope, receive, send), 30)
    return len(chunks)


async def test_a_client_that_goes_away_frees_the_cursor(seeded: Seeded) -> None:
    """A client gone after the first chunk: the cursor is closed and its connection given
    back, whether the server sees it as a failed send (ASGI 2.4) or as a disconnect
    while the body is sent (before 2.4: the response is cancelled)."""
    api = seeded.api
    before = _checked_out(api)
    query = f"portfolio_id={seeded.portfolio_id}"
    for _ in range(3):  # more than the places for streams on SQLite's pool (2)
        assert await _read_one_chunk_then_fail(api, query) == 1
        assert _checked_out(api) == before
        assert await _read_one_chunk_then_disconnect(api, query) == 1
        assert _checked_out(api) == before
    response, records = await _export(api, "projects", portfolio_id=seeded.portfolio_id)
    assert response.status_code == 200 and len(records) == MANY


async def test_streams_take_at_most_half_the_pool(seeded: Seeded) -> None:
    """Slow readers never hold the whole pool: past half of it, a stream waits its turn,
    and is refused (503) when none comes within the timeout."""
    engine = seeded.api.app.state.pmo.engine
    places = max(1, engine.sync_engine.pool.size() // 2)
    streams = RowStreams(engine, timeout=0.2)
    stmt = select(Project.id).order_by(Project.id)
    async with contextlib.AsyncExitStack() as held:
        for _ in range(places):
            batches = await held.enter_async_context(streams.open(stmt, batch=10))
            assert len(await anext(batches)) == 10
        with pytest.raises(Unavailable):
            async with streams.open(stmt, batch=10):
                pass
        response = await seeded.api.get("/api/v1/projects", params={"limit": 1})
        assert response.status_code == 200  # the rest of the pool serves the others
    async with streams.open(stmt, batch=10) as batches:
        assert len(await anext(batches)) == 10


# -- as the list ------------------------------------------------------------------------------


async def test_filters_and_sort_apply_as_on_the_list(seeded: Seeded) -> None:
    api = seeded.api
    query = {
        "portfolio_id": seeded.portfolio_id,
        "status": "active",
        "health": "red",
        "sort": "-priority_score",
    }
    response, records = await _export(api, "projects", **query)
    assert response.status_code == 200
    expected = {
        str(row["id"])
        for row in seeded.rows
        if row["status"] == "active" and row["health"] == "red"
    }
    assert {record["id"] for record in records} == expected
    assert records == await _walk(api, "projects", **query)  # the list's items, line for line


async def test_filters_read_in_python_or_from_the_rules_as_on_the_list(seeded: Seeded) -> None:
    """Filters outside the list's statement template (a text search, the compliance
    filters that read the rules in force first) apply as on the list."""
    api = seeded.api
    for query in (
        {"q": "exported 1999"},
        {"q": "exported 1999", "compliance": "compliant", "sort": "-key"},
        {"q": "exported 1999", "compliance": "failing"},
    ):
        response, records = await _export(api, "projects", **query)
        assert response.status_code == 200, response.status_code
        assert records == await _walk(api, "projects", **query), query
    found = [r["key"] for r in (await _export(api, "projects", q="exported 1999"))[1]]
    assert found == ["EX-001999", *(f"EX-01999{i}" for i in range(10))]


async def test_head_answers_the_headers(seeded: Seeded) -> None:
    response = await seeded.api.request(
        "HEAD", "/api/v1/exports/projects", params={"format": "csv"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content == b""


async def test_several_values_of_a_filter(seeded: Seeded) -> None:
    response, records = await _export(
        seeded.api, "projects", portfolio_id=seeded.portfolio_id, status=["active", "on_hold"]
    )
    assert response.status_code == 200
    assert len(records) == sum(1 for row in seeded.rows if row["status"] in ("active", "on_hold"))
    assert {record["status"] for record in records} == {"active", "on_hold"}


async def test_archived_records_only_when_asked(seeded: Seeded) -> None:
    api = seeded.api
    project = await api.make_project()
    assert (await api.delete(f"/api/v1/projects/{project['id']}")).status_code == 200
    query = {"portfolio_id": project["portfolio_id"]}
    assert (await _export(api, "projects", **query))[1] == []
    _, records = await _export(api, "projects", include_archived="true", **query)
    assert [record["id"] for record in records] == [project["id"]]
    assert records[0]["archived_at"] is not None


async def test_updated_since(seeded: Seeded) -> None:
    api = seeded.api
    later = await api.make_project()
    since = later["updated_at"]
    _, records = await _export(api, "projects", updated_since=since, sort="updated_at")
    assert later["id"] in {record["id"] for record in records}
    assert all(record["updated_at"] >= since for record in records)
    assert len(records) < MANY


async def test_every_exported_collection_is_its_list(seeded: Seeded) -> None:
    """Each declared resource is exported, line for line as its list's items."""
    api = seeded.api
    person = await api.make_person()
    project = await api.make_project(manager_id=person["id"])
    objective = {
        "key": new_key("OB"),
        "title": "Grow",
        "period_start": "2027-01-01",
        "period_end": "2027-12-31",
    }
    lesson = {
        "project_id": project["id"],
        "category": "planning",
        "title": "Plan early",
        "what_happened": "We planned late.",
    }
    defaults = {"planned_budget": 1250.5, "health": "amber", "duration_days": 30}
    template = {"key": new_key("TE"), "name": "T", "defaults": defaults}
    course = {"title": "Scheduling", "skill": "planning", "level": 2, "hours": 8}
    created = [
        ("/api/v1/objectives", objective),
        ("/api/v1/lessons", lesson),
        ("/api/v1/standards/templates", template),
        ("/api/v1/training/courses", course),
    ]
    for path, body in created:
        response = await api.post(path, json=body)
        assert response.status_code == 201, (path, response.text)
    assert set(OPERATIONS) == {kind.collection for kind in RESOURCES}
    for kind in RESOURCES:
        query = {"portfolio_id": project["portfolio_id"]} if kind.name == "project" else {}
        response, records = await _export(api, kind.collection, **query)
        assert response.status_code == 200, (kind.collection, response.status_code)
        assert records == await _walk(api, kind.plural, **query), kind.collection
    templates = (await _export(api, "templates"))[1]
    assert templates[-1]["defaults"]["planned_budget"] == 1250.5


async def test_a_search_exports_as_its_list_ranks_it(seeded: Seeded) -> None:
    """Lessons read their list their own way (a search's ranking): the export walks it."""
    api = seeded.api
    project = await api.make_project()
    for title in ("Vendor contracts", "Vendors and scope", "Weekly vendor review", "Other"):
        body = {
            "project_id": project["id"],
            "category": "vendors",
            "title": title,
            "what_happened": f"{title}: what happened with the vendor.",
        }
        assert (await api.post("/api/v1/lessons", json=body)).status_code == 201
    for query in ({"q": "vendor"}, {"q": "vendor", "sort": "title"}, {"category": "vendors"}):
        response, records = await _export(api, "lessons", **query)
        assert response.status_code == 200
        assert records == await _walk(api, "lessons", **query), query
        assert records
    searched = (await _export(api, "lessons", q="vendor"))[1]
    assert all(record["snippet"] and record["relevance"] for record in searched)


# -- CSV -------------------------------------------------------------------------------------


async def test_csv_has_the_lists_columns_and_cells(seeded: Seeded) -> None:
    api = seeded.api
    query = {"portfolio_id": seeded.portfolio_id, "health": "amber"}
    async with api.http.stream(
        "GET", "/api/v1/exports/projects", params={**query, "format": "csv"}, headers=api.headers()
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        disposition = response.headers["content-disposition"]
        assert disposition == 'attachment; filename="projects.csv"'
        text = "".join([chunk async for chunk in response.aiter_text()])
    lines = text.split("\r\n")
    assert lines[-1] == ""
    page = await api.get("/api/v1/projects", params={**query, "limit": 200, "format": "csv"})
    listed = page.text.split("\r\n")
    assert lines[0] == listed[0]  # the header
    assert lines[: len(listed) - 1] == listed[:-1]  # the first 200 rows, cell for cell
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == sum(1 for row in seeded.rows if row["health"] == "amber")
    assert {row["health"] for row in rows} == {"amber"}
    by_key = {row["key"]: row for row in rows}
    assert by_key["EX-000010"]["attributes"] == '{"row":10}'  # a JSON document, as JSON
    assert by_key["EX-000001"]["attributes"] == "{}"


async def test_csv_of_nothing_is_its_header(seeded: Seeded) -> None:
    response = await seeded.api.get(
        "/api/v1/exports/projects", params={"q": "nothing-matches-this", "format": "csv"}
    )
    assert response.status_code == 200
    listed = await seeded.api.get(
        "/api/v1/projects", params={"q": "nothing-matches-this", "format": "csv"}
    )
    assert response.text == listed.text
    assert response.text.count("\r\n") == 1


@pytest.mark.parametrize(
    ("accept", "fmt", "expected"),
    [
        (None, None, NDJSON),
        ("text/csv", None, "text/csv; charset=utf-8"),
        (NDJSON, None, NDJSON),
        ("application/json", None, NDJSON),
        (f"{NDJSON}, text/csv;q=0.5", None, NDJSON),
        ("text/csv", "ndjson", NDJSON),
        (NDJSON, "csv", "text/csv; charset=utf-8"),
    ],
)
async def test_the_format_by_accept_or_parameter(
    seeded: Seeded, accept: str | None, fmt: str | None, expected: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    params = {"portfolio_id": seeded.portfolio_id, "status": "completed", "health": "green"}
    if fmt:
        params["format"] = fmt
    response = await seeded.api.get("/api/v1/exports/projects", params=params, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == expected
    extension = "csv" if expected.startswith("text/csv") else "ndjson"
    assert response.headers["content-disposition"].endswith(f'filename="projects.{extension}"')
    lines = response.text.strip().split("\n")
    expected_rows = sum(
        1 for row in seeded.rows if row["status"] == "completed" and row["health"] == "green"
    )
    assert len(lines) == expected_rows + (extension == "csv")


# -- refusals, as the list's -----------------------------------------------------------------


async def test_without_a_key_401(seeded: Seeded) -> None:
    for path in ("/api/v1/exports/projects", "/api/v1/exports/nothing"):
        response = await seeded.api.http.get(path, params={"status": "active"})
        assert_problem(response, 401, "missing_credentials")
    response = await seeded.api.http.get(
        "/api/v1/exports/projects", headers={"Authorization": "Bearer not-a-key"}
    )
    assert_problem(response, 401, "invalid_credentials")


async def test_an_unknown_resource_404(seeded: Seeded) -> None:
    for name in ("nothing", "risks", "standards"):
        body = assert_problem(
            await seeded.api.get(f"/api/v1/exports/{name}"), 404, "export_not_found"
        )
        assert "projects" in body["detail"]


def _same_problem(export: Any, listed: Any, status: int, code: str) -> None:
    shown = assert_problem(export, status, code)
    expected = assert_problem(listed, status, code)
    for varying in ("instance", "request_id"):
        shown.pop(varying)
        expected.pop(varying)
    assert shown == expected


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"colour": "red"}, "unknown_filter"),
        ({"limit": "10"}, "unknown_filter"),
        ({"cursor": "abc"}, "unknown_filter"),
        ({"status": "nope"}, "validation_failed"),
        ({"portfolio_id": "not-a-uuid"}, "validation_failed"),
        ({"updated_since": "yesterday"}, "validation_failed"),
        ({"sort": "id"}, "invalid_sort"),
        ({"format": "json"}, "validation_failed"),
    ],
)
async def test_refused_parameters_422_as_the_list(
    seeded: Seeded, params: dict[str, str], code: str
) -> None:
    api = seeded.api
    response = await api.get("/api/v1/exports/projects", "viewer", params=params)
    if params.keys() & {"limit", "cursor", "format"}:
        # the list takes these (json is its own format): refused by the export alone
        assert_problem(response, 422, code)
        return
    listed = await api.get("/api/v1/projects", "viewer", params=params)
    if code == "unknown_filter":  # the list's own code, the same parameter named
        shown = assert_problem(response, 422, code)
        assert assert_problem(listed, 422, "unknown_parameter")["errors"] == shown["errors"]
        assert "GET /api/v1/projects" in shown["detail"]
        return
    _same_problem(response, listed, 422, code)


async def test_sorting_by_relevance_needs_a_search(seeded: Seeded) -> None:
    api = seeded.api
    response = await api.get("/api/v1/exports/lessons", params={"sort": "-relevance"})
    listed = await api.get("/api/v1/lessons", params={"sort": "-relevance"})
    _same_problem(response, listed, 422, "sort_needs_search")


async def test_who_may_export_is_who_may_list(seeded: Seeded) -> None:
    api = seeded.api
    response, records = await _export(api, "people", "viewer")
    assert response.status_code == 200 and records
    export = await api.get("/api/v1/exports/api-keys", "viewer")
    _same_problem(export, await api.get("/api/v1/api-keys", "viewer"), 403, "role_forbidden")
    response, keys = await _export(api, "api-keys")
    assert response.status_code == 200
    assert {key["role"] for key in keys} >= {"admin", "viewer"}
    assert all("secret" not in key and "secret_hash" not in key for key in keys)


def test_the_contract_names_every_export() -> None:
    from pmo_api.contracts import openapi_document

    document = json.loads(openapi_document())
    operation = document["paths"]["/api/v1/exports/{resource}"]["get"]
    (resource,) = [p for p in operation["parameters"] if p["name"] == "resource"]
    assert resource["schema"]["enum"] == [kind.collection for kind in RESOURCES]
    content = operation["responses"]["200"]["content"]
    assert set(content) == {NDJSON, "text/csv"}
