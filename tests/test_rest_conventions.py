"""The API conventions of API.md, through HTTP, on both databases."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from tests.conftest import ADMIN_KEY, Api, new_key

PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance", "code", "request_id"}


def assert_problem(response, status: int, code: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    if code is not None:
        assert body["code"] == code, body
    text = response.text.lower()
    assert "traceback" not in text and "select " not in text
    return dict(body)


# --- errors -----------------------------------------------------------------------


async def test_unknown_route_is_problem_404(api: Api) -> None:
    assert_problem(await api.get("/api/v1/nothing-here"), 404, "not_found")


async def test_wrong_method_is_405_with_allow(api: Api) -> None:
    response = await api.request("PUT", "/api/v1/projects")
    body = assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"] and "POST" in response.headers["allow"]
    assert body["instance"] == "/api/v1/projects"


async def test_missing_malformed_and_unknown_keys_are_401(api: Api) -> None:
    no_key = await api.http.get("/api/v1/projects")
    assert_problem(no_key, 401, "missing_credentials")
    assert no_key.headers["www-authenticate"].startswith("Bearer")
    malformed = await api.http.get("/api/v1/projects", headers={"Authorization": "Basic abc"})
    assert_problem(malformed, 401, "malformed_credentials")
    unknown = await api.http.get("/api/v1/projects", headers={"Authorization": "Bearer pmo_nope"})
    assert_problem(unknown, 401, "invalid_credentials")


async def test_not_found_and_invalid_identifier(api: Api) -> None:
    assert_problem(await api.get(f"/api/v1/projects/{uuid.uuid4()}"), 404, "project_not_found")
    assert_problem(await api.get("/api/v1/projects/NOPE-404"), 404, "project_not_found")
    assert_problem(await api.get("/api/v1/projects/not a key"), 422, "invalid_identifier")
    assert_problem(await api.get("/api/v1/people/ABC-1"), 422, "invalid_identifier")


async def test_request_id_is_accepted_or_generated_and_recorded(api: Api) -> None:
    given = "trace-" + uuid.uuid4().hex
    response = await api.post(
        "/api/v1/portfolios",
        json={"key": new_key("RQ"), "name": "Traced"},
        headers={"X-Request-ID": given},
    )
    assert response.status_code == 201
    assert response.headers["x-request-id"] == given
    events = await api.get("/api/v1/audit-events", params={"request_id": given})
    assert [e["action"] for e in events.json()["items"]] == ["portfolio.created"]
    generated = await api.get("/api/v1/projects")
    assert len(generated.headers["x-request-id"]) >= 16
    bogus = await api.get("/api/v1/projects", headers={"X-Request-ID": "bad id with spaces"})
    assert bogus.headers["x-request-id"] != "bad id with spaces"


async def test_security_headers(api: Api) -> None:
    response = await api.get("/api/v1/projects")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "access-control-allow-origin" not in response.headers


# --- creation, ETag, If-Match ------------------------------------------------------


async def test_create_answers_201_with_location_and_etag(api: Api) -> None:
    portfolio = await api.make_portfolio()
    response = await api.post(
        "/api/v1/projects",
        json={"key": new_key(), "name": "Located", "portfolio_id": portfolio["id"]},
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/api/v1/projects/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert body["version"] == 1
    assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")
    again = await api.get(response.headers["location"])
    assert again.json() == body


async def test_timestamps_are_utc_with_z(api: Api) -> None:
    body = await api.make_portfolio()
    assert body["created_at"].endswith("Z"), body["created_at"]


async def test_if_none_match_gives_304(api: Api) -> None:
    project = await api.make_project()
    path = f"/api/v1/projects/{project['id']}"
    first = await api.get(path)
    second = await api.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 304
    assert second.content == b""
    listing = await api.get("/api/v1/projects", params={"limit": 3})
    cached = await api.get(
        "/api/v1/projects", params={"limit": 3}, headers={"If-None-Match": listing.headers["etag"]}
    )
    assert cached.status_code == 304


async def test_if_match_guards_writes(api: Api) -> None:
    project = await api.make_project()
    path = f"/api/v1/projects/{project['id']}"
    stale = await api.patch(path, json={"name": "Stale"}, headers={"If-Match": '"7"'})
    body = assert_problem(stale, 412, "version_mismatch")
    assert body["current_version"] == 1
    ok = await api.patch(path, json={"name": "Fresh"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200
    assert ok.json()["version"] == 2 and ok.headers["etag"] == '"2"'
    garbage = await api.patch(path, json={"name": "X"}, headers={"If-Match": "whatever"})
    assert_problem(garbage, 422, "validation_failed")
    archive_stale = await api.delete(path, headers={"If-Match": '"1"'})
    assert_problem(archive_stale, 412, "version_mismatch")
    assert (await api.get(path)).json()["name"] == "Fresh"


async def test_noop_patch_changes_nothing(api: Api) -> None:
    project = await api.make_project(name="Same")
    path = f"/api/v1/projects/{project['id']}"
    before = await api.table_counts()
    response = await api.patch(path, json={"name": "Same"})
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert response.json()["updated_at"] == project["updated_at"]
    assert await api.table_counts() == before


async def test_patch_distinguishes_not_sent_from_null(api: Api) -> None:
    project = await api.make_project(description="Keep me", methodology="scrum")
    path = f"/api/v1/projects/{project['id']}"
    response = await api.patch(path, json={"methodology": None})
    assert response.status_code == 200
    body = response.json()
    assert body["methodology"] is None
    assert body["description"] == "Keep me"
    refused = await api.patch(path, json={"name": None})
    assert_problem(refused, 422, "validation_failed")


# --- idempotency --------------------------------------------------------------------


async def test_idempotent_post_replays_first_response(api: Api) -> None:
    key = str(uuid.uuid4())
    body = {"key": new_key("ID"), "name": "Once"}
    first = await api.post("/api/v1/portfolios", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    before = await api.table_counts()
    second = await api.post("/api/v1/portfolios", json=body, headers={"Idempotency-Key": key})
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["idempotent-replayed"] == "true"
    assert await api.table_counts() == before
    other = await api.post(
        "/api/v1/portfolios",
        json={**body, "name": "Other"},
        headers={"Idempotency-Key": key},
    )
    assert_problem(other, 422, "idempotency_key_reused")


async def test_idempotency_keys_are_scoped_per_api_key(api: Api) -> None:
    key = str(uuid.uuid4())
    first = await api.post(
        "/api/v1/portfolios",
        json={"key": new_key("SC"), "name": "A"},
        headers={"Idempotency-Key": key},
    )
    second = await api.post(
        "/api/v1/portfolios",
        "pmo",
        json={"key": new_key("SC"), "name": "B"},
        headers={"Idempotency-Key": key},
    )
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


async def test_failed_idempotent_post_can_be_retried(api: Api) -> None:
    key = str(uuid.uuid4())
    body = {"key": new_key("RT"), "name": "Retry", "owner_id": str(uuid.uuid4())}
    failed = await api.post("/api/v1/portfolios", json=body, headers={"Idempotency-Key": key})
    assert_problem(failed, 422, "person_not_found")
    body.pop("owner_id")
    # Nothing is stored for a request that failed, so the corrected retry goes through.
    ok = await api.post("/api/v1/portfolios", json=body, headers={"Idempotency-Key": key})
    assert ok.status_code == 201, ok.text
    replay = await api.post("/api/v1/portfolios", json=body, headers={"Idempotency-Key": key})
    assert replay.json()["id"] == ok.json()["id"]


# --- archive instead of delete --------------------------------------------------------


async def test_delete_archives_and_lists_hide_archived(api: Api) -> None:
    portfolio = await api.make_portfolio()
    project = await api.make_project(portfolio["id"])
    path = f"/api/v1/projects/{project['id']}"
    response = await api.delete(path)
    assert response.status_code == 200
    assert response.json()["archived_at"] is not None
    assert response.json()["version"] == 2
    assert (await api.get(path)).status_code == 200
    listed = await api.get("/api/v1/projects", params={"portfolio_id": portfolio["id"]})
    assert listed.json()["items"] == []
    with_archived = await api.get(
        "/api/v1/projects", params={"portfolio_id": portfolio["id"], "include_archived": "true"}
    )
    assert [p["id"] for p in with_archived.json()["items"]] == [project["id"]]
    assert_problem(await api.delete(path), 409, "already_archived")


# --- lists: pagination, filters, sort, CSV ------------------------------------------------


async def _portfolio_with_projects(api: Api, count: int) -> tuple[dict, list[dict]]:  # type: ignore[type-arg]
    portfolio = await api.make_portfolio()
    projects = [
        await api.make_project(portfolio["id"], priority_score=i % 4, name=f"Project {i:02d}")
        for i in range(count)
    ]
    return portfolio, projects


async def _walk(api: Api, portfolio_id: str, sort: str) -> list[dict]:  # type: ignore[type-arg]
    """Every project of a portfolio, two a page, following the cursors."""
    seen: list[dict] = []  # type: ignore[type-arg]
    cursor = None
    while True:
        params = {"portfolio_id": portfolio_id, "limit": 2, "sort": sort}
        if cursor:
            params["cursor"] = cursor
        response = await api.get("/api/v1/projects", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


async def test_keyset_walk_sees_every_row_once(api: Api) -> None:
    portfolio, projects = await _portfolio_with_projects(api, 7)
    for sort in ("key", "-priority_score", "name", "-updated_at", "created_at"):
        seen = [p["id"] for p in await _walk(api, portfolio["id"], sort)]
        assert sorted(seen) == sorted(p["id"] for p in projects), sort
        assert len(seen) == len(set(seen))


async def test_money_sort_walks_every_row_once_and_pages_print_as_reads(api: Api) -> None:
    """Budgets that tie across page ends and that a binary float cannot hold exactly: the
    cursor resumes right after the last row shown, in both directions, and each listed
    project prints as its own GET (on PostgreSQL a page reads ids as text and money as
    doubles, see db.reads)."""
    portfolio = await api.make_portfolio()
    budgets = ["0.10", "0.10", "0.10", "1005130.01", "999999999999.99", "0.29", "0.29", "70.00"]
    projects = [await api.make_project(portfolio["id"], planned_budget=b) for b in budgets]
    for sort in ("planned_budget", "-planned_budget"):
        seen = await _walk(api, portfolio["id"], sort)
        assert sorted(p["id"] for p in seen) == sorted(p["id"] for p in projects), sort
        order = [(p["planned_budget"], p["id"]) for p in seen]
        assert order == sorted(order, reverse=sort.startswith("-")), sort
    for item in seen:
        shown = (await api.get(f"/api/v1/projects/{item['id']}")).json()
        item.pop("open_risk_count")
        assert item == shown


async def test_next_page_link_keeps_the_query_and_replaces_the_cursor(api: Api) -> None:
    portfolio, projects = await _portfolio_with_projects(api, 5)
    params = {"portfolio_id": portfolio["id"], "limit": 2, "sort": "-priority_score"}
    first = await api.get("/api/v1/projects", params=params)
    cursor = first.json()["next_cursor"]
    assert first.headers["x-next-cursor"] == cursor
    assert first.headers["link"] == (
        f"<http://test/api/v1/projects?portfolio_id={portfolio['id']}&limit=2"
        f'&sort=-priority_score&cursor={cursor}>; rel="next"'
    )
    second = await api.get("/api/v1/projects", params={**params, "cursor": cursor})
    link = second.headers["link"]
    following = second.json()["next_cursor"]
    assert link.count("cursor=") == 1 and f"cursor={following}>" in link
    third = await api.get(link[1 : link.index(">")].removeprefix("http://test"))
    assert third.status_code == 200 and "link" not in third.headers
    seen = [p["id"] for r in (first, second, third) for p in r.json()["items"]]
    assert sorted(seen) == sorted(p["id"] for p in projects)
    odd_host = await api.get("/api/v1/projects", params=params, headers={"host": "a>b"})
    assert odd_host.status_code == 200 and "a>b" not in odd_host.headers["link"]


async def test_keyset_walk_survives_concurrent_writes(api: Api) -> None:
    portfolio, projects = await _portfolio_with_projects(api, 6)
    params = {"portfolio_id": portfolio["id"], "limit": 3, "sort": "key"}
    first = (await api.get("/api/v1/projects", params=params)).json()
    # Meanwhile: a row before the cursor is archived, a new one is inserted before it.
    await api.delete(f"/api/v1/projects/{first['items'][0]['id']}")
    await api.make_project(portfolio["id"], key="A-" + uuid.uuid4().hex[:8].upper())
    second = (
        await api.get("/api/v1/projects", params={**params, "cursor": first["next_cursor"]})
    ).json()
    seen = [p["id"] for p in first["items"] + second["items"]]
    assert sorted(seen) == sorted(p["id"] for p in projects)


async def test_sort_orders_and_ties_break_on_id(api: Api) -> None:
    portfolio, _ = await _portfolio_with_projects(api, 6)
    page = (
        await api.get(
            "/api/v1/projects", params={"portfolio_id": portfolio["id"], "sort": "-priority_score"}
        )
    ).json()["items"]
    keys = [(p["priority_score"], p["id"]) for p in page]
    assert keys == sorted(keys, reverse=True)  # ties break on id, in the same direction


async def test_cursor_is_tamper_evident_and_bound_to_filters(api: Api) -> None:
    portfolio, _ = await _portfolio_with_projects(api, 3)
    params = {"portfolio_id": portfolio["id"], "limit": 1}
    cursor = (await api.get("/api/v1/projects", params=params)).json()["next_cursor"]
    assert cursor
    forged = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    assert_problem(
        await api.get("/api/v1/projects", params={**params, "cursor": forged}),
        422,
        "invalid_cursor",
    )
    assert_problem(
        await api.get("/api/v1/projects", params={**params, "cursor": "garbage"}),
        422,
        "invalid_cursor",
    )
    mismatched = await api.get(
        "/api/v1/projects", params={**params, "cursor": cursor, "sort": "-name"}
    )
    assert_problem(mismatched, 422, "cursor_mismatch")
    other_filter = await api.get(
        "/api/v1/projects", params={"limit": 1, "cursor": cursor, "status": "active"}
    )
    assert_problem(other_filter, 422, "cursor_mismatch")


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten"])
async def test_limit_out_of_range(api: Api, limit: str) -> None:
    assert_problem(await api.get("/api/v1/projects", params={"limit": limit}), 422)


async def test_unknown_parameters_and_sort_fields_are_refused(api: Api) -> None:
    body = assert_problem(await api.get("/api/v1/projects", params={"colour": "red"}), 422)
    assert body["errors"][0]["loc"] == ["query", "colour"]
    assert_problem(await api.get("/api/v1/projects", params={"sort": "description"}), 422)
    project = await api.make_project()
    assert_problem(
        await api.get(f"/api/v1/projects/{project['id']}", params={"verbose": "1"}),
        422,
        "unknown_parameter",
    )


async def test_filters(api: Api) -> None:
    portfolio = await api.make_portfolio()
    red = await api.make_project(portfolio["id"], health="red", status="active", phase="build")
    await api.make_project(portfolio["id"], health="green", status="active")
    await api.make_project(portfolio["id"], health="red", status="on_hold", name="Zebra launch")

    async def ids(**params: str) -> list[str]:
        response = await api.get(
            "/api/v1/projects", params={"portfolio_id": portfolio["id"], **params}
        )
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["items"]]

    assert await ids(health="red", status="active") == [red["id"]]
    assert len(await ids(health="red")) == 2
    assert len(await ids(status=["active", "on_hold"])) == 3  # type: ignore[arg-type]
    assert await ids(phase="build") == [red["id"]]
    assert len(await ids(q="zebra")) == 1
    assert_problem(await api.get("/api/v1/projects", params={"health": "purple"}), 422)


async def test_updated_since_for_polling(api: Api) -> None:
    portfolio, projects = await _portfolio_with_projects(api, 3)
    mark = projects[-1]["updated_at"]
    changed = await api.patch(f"/api/v1/projects/{projects[0]['id']}", json={"name": "Changed"})
    response = await api.get(
        "/api/v1/projects",
        params={"portfolio_id": portfolio["id"], "updated_since": mark, "sort": "updated_at"},
    )
    ids = [p["id"] for p in response.json()["items"]]
    assert ids[-1] == changed.json()["id"]
    assert projects[1]["id"] not in ids or projects[1]["updated_at"] >= mark


async def test_list_as_csv(api: Api) -> None:
    portfolio, projects = await _portfolio_with_projects(api, 3)
    response = await api.get(
        "/api/v1/projects", params={"portfolio_id": portfolio["id"], "format": "csv"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(r["id"] for r in rows) == sorted(p["id"] for p in projects)
    assert rows[0]["planned_budget"] == "0.0"
    by_accept = await api.get(
        "/api/v1/projects",
        params={"portfolio_id": portfolio["id"]},
        headers={"Accept": "text/csv"},
    )
    assert by_accept.text == response.text


# --- audit trail ------------------------------------------------------------------------


async def test_every_change_is_in_the_audit_trail(api: Api) -> None:
    project = await api.make_project(planned_budget=100)
    path = f"/api/v1/projects/{project['id']}"
    await api.patch(path, json={"planned_budget": 250.5, "health": "amber"})
    await api.delete(path)
    response = await api.get(
        "/api/v1/audit-events", params={"entity_id": project["id"], "sort": "occurred_at"}
    )
    events = response.json()["items"]
    assert [e["action"] for e in events] == [
        "project.created",
        "project.updated",
        "project.archived",
    ]
    update = events[1]
    assert update["changes"] == {
        "planned_budget": {"before": "100.00", "after": "250.50"},
        "health": {"before": "green", "after": "amber"},
    }
    assert update["actor_role"] == "admin"
    assert update["entity_type"] == "project"
    assert update["request_id"]


async def test_audit_trail_is_append_only(api: Api) -> None:
    for method in ("POST", "PATCH", "DELETE", "PUT"):
        response = await api.request(method, "/api/v1/audit-events", json={})
        assert response.status_code == 405, method
    project = await api.make_project()
    (event,) = (await api.get("/api/v1/audit-events", params={"entity_id": project["id"]})).json()[
        "items"
    ]
    for method in ("POST", "PATCH", "DELETE", "PUT"):
        response = await api.request(method, f"/api/v1/audit-events/{event['id']}", json={})
        assert response.status_code == 405, method


async def test_failed_write_leaves_no_event(api: Api) -> None:
    portfolio = await api.make_portfolio()
    before = await api.table_counts()
    response = await api.post(
        "/api/v1/projects",
        json={"key": portfolio["key"], "name": "x", "portfolio_id": str(uuid.uuid4())},
    )
    assert_problem(response, 422, "portfolio_not_found")
    assert await api.table_counts() == before


async def test_bootstrap_key_is_admin(api: Api) -> None:
    response = await api.http.get(
        "/api/v1/api-keys", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    assert response.status_code == 200
    assert "secret" not in response.text and "secret_hash" not in response.text


async def test_cursor_with_non_ascii_signature_is_refused(api: Api) -> None:
    response = await api.get("/api/v1/projects", params={"cursor": ".\u00f4-\u00d4\u00e2"})
    assert_problem(response, 422, "invalid_cursor")
    response = await api.get("/api/v1/projects", params={"cursor": "e30.\u00e9t\u00e9"})
    assert_problem(response, 422, "invalid_cursor")


# --- HEAD -------------------------------------------------------------------------


async def test_head_answers_like_get_without_a_body(api: Api) -> None:
    """RFC 9110: HEAD is GET without the content; the headers (ETag, length) are GET's."""
    project = await api.make_project()
    for path, params in (
        (f"/api/v1/projects/{project['id']}", {}),
        (f"/api/v1/projects/{project['key']}", {}),
        ("/api/v1/projects", {"limit": 5}),
        ("/api/v1/portfolios", {}),
        (f"/api/v1/people/{(await api.make_person())['id']}", {}),
    ):
        got = await api.get(path, params=params)
        head = await api.request("HEAD", path, params=params)
        assert got.status_code == head.status_code == 200, path
        assert head.content == b""
        assert head.headers["etag"] == got.headers["etag"]
        assert head.headers["content-length"] == str(len(got.content))
        assert head.headers["content-type"] == got.headers["content-type"]
    # Conditional and failing HEADs behave like their GETs, still without a body.
    path = f"/api/v1/projects/{project['id']}"
    etag = (await api.get(path)).headers["etag"]
    cached = await api.request("HEAD", path, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    missing = await api.request("HEAD", f"/api/v1/projects/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.content == b""
    assert (await api.http.head("/healthz")).status_code == 200
    unauthenticated = await api.http.head(path)
    assert unauthenticated.status_code == 401 and unauthenticated.content == b""


async def test_head_on_a_write_only_route_is_405(api: Api) -> None:
    project = await api.make_project()
    response = await api.request("HEAD", f"/api/v1/changes/{uuid.uuid4()}/approve")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert (await api.get(f"/api/v1/projects/{project['id']}")).status_code == 200


async def test_routes_are_found_by_the_index_as_declared(api: Api) -> None:
    """Every documented operation answers on its path and method (not 404/405), so the
    route index in front of FastAPI's matching leaves none behind."""
    schema = (await api.http.get("/openapi.json")).json()
    for path, operations in schema["paths"].items():
        concrete = path.replace("{id}", str(uuid.uuid4()))
        for method in operations:
            response = await api.request(method.upper(), concrete, json={})
            assert response.status_code not in (404, 405) or (
                response.headers.get("content-type", "").startswith("application/problem+json")
                and response.json()["code"] not in ("not_found", "method_not_allowed")
            ), (method, path, response.status_code, response.text[:200])


def test_route_index_finds_every_api_route_itself(api: Api) -> None:
    """The index resolves each API route without falling back to FastAPI's matching,
    and to that very route (not another one whose pattern also matches)."""
    from fastapi.routing import APIRoute

    from pmo_api.api.routing import RouteIndex

    index = api.app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    routes = [r for r in api.app.router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 50
    for route in routes:
        path = route.path_format.replace("{id}", str(uuid.uuid4()))
        for method in route.methods:
            found = index.find(path, method)
            assert found is not None, (method, route.path)
            assert found[0] is route, (method, route.path, found[0].path)
