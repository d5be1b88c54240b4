"""Roles and object rules through REST."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import Api, new_key
from tests.test_rest_conventions import assert_problem


async def _managed_project(api: Api, manager: str = "manager") -> dict:  # type: ignore[type-arg]
    return await api.make_project(manager_id=api.people[manager]["id"])


@pytest.mark.parametrize("role", ["admin", "pmo", "manager", "other_manager", "viewer"])
async def test_every_role_reads(api: Api, role: str) -> None:
    project = await api.make_project()
    assert (await api.get(f"/api/v1/projects/{project['id']}", role)).status_code == 200
    assert (await api.get("/api/v1/projects", role)).status_code == 200
    assert (await api.get("/api/v1/people", role)).status_code == 200
    assert (await api.get("/api/v1/portfolios", role)).status_code == 200
    assert (await api.get("/api/v1/audit-events", role)).status_code == 200


async def test_viewer_cannot_write_anything(api: Api) -> None:
    project = await api.make_project()
    portfolio_id = project["portfolio_id"]
    before = await api.table_counts()
    attempts = [
        await api.post("/api/v1/people", "viewer", json={"name": "V", "email": "v@example.com"}),
        await api.post("/api/v1/portfolios", "viewer", json={"key": new_key(), "name": "V"}),
        await api.post(
            "/api/v1/projects",
            "viewer",
            json={"key": new_key(), "name": "V", "portfolio_id": portfolio_id},
        ),
        await api.patch(f"/api/v1/projects/{project['id']}", "viewer", json={"name": "V"}),
        await api.delete(f"/api/v1/projects/{project['id']}", "viewer"),
        await api.patch(f"/api/v1/portfolios/{portfolio_id}", "viewer", json={"name": "V"}),
        await api.post("/api/v1/api-keys", "viewer", json={"name": "x", "role": "admin"}),
    ]
    for response in attempts:
        assert_problem(response, 403)
    assert await api.table_counts() == before


async def test_manager_edits_own_project_only(api: Api) -> None:
    own = await _managed_project(api, "manager")
    other = await _managed_project(api, "other_manager")
    ok = await api.patch(f"/api/v1/projects/{own['id']}", "manager", json={"percent_complete": 40})
    assert ok.status_code == 200, ok.text
    assert ok.json()["percent_complete"] == 40
    before = await api.table_counts()
    denied = await api.patch(
        f"/api/v1/projects/{other['id']}", "manager", json={"percent_complete": 40}
    )
    assert_problem(denied, 403, "project_forbidden")
    denied_by_key = await api.patch(
        f"/api/v1/projects/{other['key']}", "manager", json={"name": "Mine now"}
    )
    assert_problem(denied_by_key, 403, "project_forbidden")
    assert await api.table_counts() == before
    assert (await api.get(f"/api/v1/projects/{other['id']}")).json()["percent_complete"] == 0


async def test_manager_cannot_hand_over_or_take_projects(api: Api) -> None:
    own = await _managed_project(api, "manager")
    handover = await api.patch(
        f"/api/v1/projects/{own['id']}",
        "manager",
        json={"manager_id": api.people["other_manager"]["id"]},
    )
    assert_problem(handover, 403, "manager_reassign_forbidden")
    unmanaged = await api.make_project()
    take = await api.patch(
        f"/api/v1/projects/{unmanaged['id']}",
        "manager",
        json={"manager_id": api.people["manager"]["id"]},
    )
    assert_problem(take, 403, "project_forbidden")


async def test_manager_creates_only_projects_they_manage(api: Api) -> None:
    portfolio = await api.make_portfolio()
    body = {"key": new_key(), "name": "Mine", "portfolio_id": portfolio["id"]}
    own = await api.post(
        "/api/v1/projects", "manager", json={**body, "manager_id": api.people["manager"]["id"]}
    )
    assert own.status_code == 201, own.text
    other = await api.post(
        "/api/v1/projects",
        "manager",
        json={**body, "key": new_key(), "manager_id": api.people["other_manager"]["id"]},
    )
    assert_problem(other, 403, "project_forbidden")
    unassigned = await api.post("/api/v1/projects", "manager", json={**body, "key": new_key()})
    assert_problem(unassigned, 403, "project_forbidden")


async def test_manager_cannot_archive_or_change_directory(api: Api) -> None:
    own = await _managed_project(api, "manager")
    assert_problem(await api.delete(f"/api/v1/projects/{own['id']}", "manager"), 403)
    assert_problem(
        await api.post(
            "/api/v1/portfolios", "manager", json={"key": new_key(), "name": "Not allowed"}
        ),
        403,
    )
    assert_problem(
        await api.patch(
            f"/api/v1/people/{api.people['manager']['id']}", "manager", json={"title": "CEO"}
        ),
        403,
    )


async def test_pmo_writes_everywhere_but_not_keys(api: Api) -> None:
    other = await _managed_project(api, "other_manager")
    ok = await api.patch(f"/api/v1/projects/{other['id']}", "pmo", json={"health": "red"})
    assert ok.status_code == 200
    assert (await api.delete(f"/api/v1/projects/{other['id']}", "pmo")).status_code == 200
    assert_problem(await api.get("/api/v1/api-keys", "pmo"), 403)
    assert_problem(
        await api.post("/api/v1/api-keys", "pmo", json={"name": "x", "role": "admin"}), 403
    )


async def test_api_keys_lifecycle(api: Api) -> None:
    created = await api.post("/api/v1/api-keys", json={"name": "script", "role": "viewer"})
    assert created.status_code == 201
    key = created.json()
    assert key["secret"].startswith("pmo_")
    assert key["prefix"] == key["secret"][:12]
    assert created.headers["location"] == f"/api/v1/api-keys/{key['id']}"
    secret = key["secret"]
    auth = {"Authorization": f"Bearer {secret}"}
    assert (await api.http.get("/api/v1/projects", headers=auth)).status_code == 200
    listed = await api.get("/api/v1/api-keys", params={"sort": "-created_at"})
    assert secret not in listed.text
    assert key["id"] in {k["id"] for k in listed.json()["items"]}
    revoked = await api.delete(f"/api/v1/api-keys/{key['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert_problem(await api.http.get("/api/v1/projects", headers=auth), 401)
    assert_problem(await api.delete(f"/api/v1/api-keys/{key['id']}"), 409, "already_revoked")
    assert_problem(await api.delete(f"/api/v1/api-keys/{uuid.uuid4()}"), 404)
    events = await api.get("/api/v1/audit-events", params={"entity_id": key["id"]})
    actions = sorted(e["action"] for e in events.json()["items"])
    assert actions == ["api_key.created", "api_key.revoked"]
    assert secret not in events.text


async def test_manager_key_needs_a_person(api: Api) -> None:
    response = await api.post("/api/v1/api-keys", json={"name": "m", "role": "manager"})
    assert_problem(response, 422, "manager_needs_person")
    unknown = await api.post(
        "/api/v1/api-keys",
        json={"name": "m", "role": "manager", "person_id": str(uuid.uuid4())},
    )
    assert_problem(unknown, 422, "person_not_found")


async def test_key_in_query_string_is_refused(api: Api) -> None:
    for name in ("api_key", "access_token", "token"):
        response = await api.http.get("/api/v1/projects", params={name: api.keys["admin"]})
        assert_problem(response, 401, "credentials_in_query")
        assert response.headers["www-authenticate"].startswith("Bearer")
    with_header_too = await api.get("/api/v1/projects", params={"api_key": api.keys["admin"]})
    assert_problem(with_header_too, 401, "credentials_in_query")


async def test_authentication_is_checked_before_parameters(api: Api) -> None:
    response = await api.http.get("/api/v1/projects", params={"colour": "red"})
    assert_problem(response, 401, "missing_credentials")
