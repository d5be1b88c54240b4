"""A project's create, written in one statement on PostgreSQL (``db.writes``) and in
the session's transaction on SQLite: the same answers and the same rows either way,
and nothing at all written when any part of it is refused."""

from __future__ import annotations

import asyncio
import uuid

from tests.conftest import Api, new_key
from tests.test_rest_conventions import assert_problem


def _project(portfolio_id: str, **fields: object) -> dict[str, object]:
    return {"key": new_key("OS"), "name": "One statement", "portfolio_id": portfolio_id, **fields}


async def test_every_reference_is_checked_and_a_refusal_writes_nothing(api: Api) -> None:
    portfolio = await api.make_portfolio()
    manager = await api.make_person()
    archived = await api.make_person()
    assert (await api.delete(f"/api/v1/people/{archived['id']}")).status_code == 200
    closed = await api.make_portfolio()
    assert (await api.delete(f"/api/v1/portfolios/{closed['id']}")).status_code == 200
    key = uuid.uuid4().hex
    before = await api.table_counts()
    cases = [
        (_project(str(uuid.uuid4())), "portfolio_not_found", "portfolio_id"),
        (_project(closed["id"]), "portfolio_not_found", "portfolio_id"),
        (_project(portfolio["id"], manager_id=str(uuid.uuid4())), "person_not_found", "manager_id"),
        (_project(portfolio["id"], manager_id=archived["id"]), "person_not_found", "manager_id"),
        (
            _project(portfolio["id"], manager_id=manager["id"], sponsor_id=archived["id"]),
            "person_not_found",
            "sponsor_id",
        ),
    ]
    for body, code, field in cases:
        refused = await api.post("/api/v1/projects", json=body, headers={"Idempotency-Key": key})
        problem = assert_problem(refused, 422, code)
        assert [e["loc"] for e in problem["errors"]] == [["body", field]], problem
    # Nothing written: no project, no audit event, and the key was never claimed, so
    # the corrected request goes through with the same key.
    assert await api.table_counts() == before
    body = _project(portfolio["id"], manager_id=manager["id"], sponsor_id=manager["id"])
    made = await api.post("/api/v1/projects", json=body, headers={"Idempotency-Key": key})
    assert made.status_code == 201, made.text
    assert made.json()["manager_id"] == made.json()["sponsor_id"] == manager["id"]


async def test_a_duplicate_key_is_409_and_leaves_no_claim_behind(api: Api) -> None:
    portfolio = await api.make_portfolio()
    taken = await api.make_project(portfolio["id"])
    idem = uuid.uuid4().hex
    before = await api.table_counts()
    clash = await api.post(
        "/api/v1/projects",
        json={**_project(portfolio["id"]), "key": taken["key"]},
        headers={"Idempotency-Key": idem},
    )
    problem = assert_problem(clash, 409, "duplicate_key")
    assert problem["field"] == "key"
    assert await api.table_counts() == before
    fresh = await api.post(
        "/api/v1/projects", json=_project(portfolio["id"]), headers={"Idempotency-Key": idem}
    )
    assert fresh.status_code == 201, fresh.text


async def test_a_key_reused_with_another_body_is_refused(api: Api) -> None:
    portfolio = await api.make_portfolio()
    idem = uuid.uuid4().hex
    body = _project(portfolio["id"])
    first = await api.post("/api/v1/projects", json=body, headers={"Idempotency-Key": idem})
    assert first.status_code == 201
    before = await api.table_counts()
    other = await api.post(
        "/api/v1/projects", json={**body, "name": "Else"}, headers={"Idempotency-Key": idem}
    )
    assert_problem(other, 422, "idempotency_key_reused")
    # The same body with its keys in another order and other spacing is the same request.
    reordered = await api.post(
        "/api/v1/projects",
        content=b'{"portfolio_id": "%s",  "name": "One statement", "key": "%s"}'
        % (str(body["portfolio_id"]).encode(), str(body["key"]).encode()),
        headers={"Idempotency-Key": idem, "Content-Type": "application/json"},
    )
    assert reordered.status_code == 201
    assert reordered.headers["idempotent-replayed"] == "true"
    assert reordered.content == first.content
    assert await api.table_counts() == before


async def test_racing_retries_make_one_project(api: Api) -> None:
    portfolio = await api.make_portfolio()
    idem = uuid.uuid4().hex
    body = _project(portfolio["id"])
    answers = await asyncio.gather(
        *(
            api.post("/api/v1/projects", json=body, headers={"Idempotency-Key": idem})
            for _ in range(6)
        )
    )
    made = [a for a in answers if a.status_code == 201]
    assert made, [a.text for a in answers]
    assert {a.json()["id"] for a in made} == {made[0].json()["id"]}
    # A retry that found the first still in flight was told so, never a second project.
    for answer in answers:
        if answer.status_code != 201:
            assert_problem(answer, 409, "idempotency_in_flight")
    found = await api.get("/api/v1/projects", params={"q": str(body["key"])})
    assert len(found.json()["items"]) == 1


async def test_bodies_the_direct_path_leaves_to_the_route_get_the_same_answers(
    api: Api,
) -> None:
    portfolio = await api.make_portfolio()
    before = await api.table_counts()
    invalid = await api.post("/api/v1/projects", json={**_project(portfolio["id"]), "key": ""})
    problem = assert_problem(invalid, 422, "validation_failed")
    assert ["body", "key"] in [e["loc"] for e in problem["errors"]]
    broken = await api.post(
        "/api/v1/projects",
        content=b'{"key": ',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(broken, 400)
    long_key = await api.post(
        "/api/v1/projects", json=_project(portfolio["id"]), headers={"Idempotency-Key": "k" * 256}
    )
    assert_problem(long_key, 422)
    unknown = await api.post(
        "/api/v1/projects", json=_project(portfolio["id"]), params={"dry_run": "1"}
    )
    assert_problem(unknown, 422, "unknown_parameter")
    viewer = await api.post("/api/v1/projects", "viewer", json=_project(portfolio["id"]))
    assert_problem(viewer, 403, "project_forbidden")
    anonymous = await api.http.post("/api/v1/projects", json=_project(portfolio["id"]))
    assert_problem(anonymous, 401, "missing_credentials")
    assert await api.table_counts() == before
    # A body sent with a JSON media type and a charset is served like plain JSON.
    with_charset = await api.post(
        "/api/v1/projects",
        content=b'{"key": "%s", "name": "Charset", "portfolio_id": "%s"}'
        % (new_key("CS").encode(), portfolio["id"].encode()),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert with_charset.status_code == 201, with_charset.text
    assert with_charset.headers["location"].endswith(with_charset.json()["id"])


async def test_people_and_portfolios_are_created_the_same_way(api: Api) -> None:
    owner = await api.make_person()
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    with api.count_statements(cold_auth=False) as counter:
        person = await api.post("/api/v1/people", json={"name": "Once", "email": email})
        parent = await api.post(
            "/api/v1/portfolios",
            json={"key": new_key("PF"), "name": "Parent", "owner_id": owner["id"]},
        )
    assert person.status_code == parent.status_code == 201, (person.text, parent.text)
    if api.backend == "postgresql":
        assert [s.split()[0] for s in counter.statements] == ["WITH", "WITH"], counter.statements
    child = await api.post(
        "/api/v1/portfolios",
        json={"key": new_key("PF"), "name": "Child", "parent_id": parent.json()["id"]},
    )
    assert child.status_code == 201 and child.json()["parent_id"] == parent.json()["id"]
    assert (await api.get(f"/api/v1/people/{person.json()['id']}")).json() == person.json()
    before = await api.table_counts()
    again = await api.post("/api/v1/people", json={"name": "Twice", "email": email})
    assert assert_problem(again, 409, "duplicate_key")["field"] == "email"
    orphan = await api.post(
        "/api/v1/portfolios",
        json={"key": new_key("PF"), "name": "Orphan", "parent_id": str(uuid.uuid4())},
    )
    assert_problem(orphan, 422, "portfolio_not_found")
    assert (await api.delete(f"/api/v1/people/{owner['id']}")).status_code == 200
    before = await api.table_counts()
    unowned = await api.post(
        "/api/v1/portfolios",
        json={"key": new_key("PF"), "name": "Unowned", "owner_id": owner["id"]},
    )
    assert_problem(unowned, 422, "person_not_found")
    assert await api.table_counts() == before


async def test_an_update_checks_the_references_it_changes_as_a_create_does(api: Api) -> None:
    portfolio = await api.make_portfolio()
    project = await api.make_project(portfolio["id"])
    archived = await api.make_person()
    assert (await api.delete(f"/api/v1/people/{archived['id']}")).status_code == 200
    before = await api.table_counts()
    cases = [
        ("projects", project["id"], {"manager_id": str(uuid.uuid4())}, "person_not_found"),
        ("projects", project["id"], {"sponsor_id": archived["id"]}, "person_not_found"),
        ("projects", project["id"], {"portfolio_id": str(uuid.uuid4())}, "portfolio_not_found"),
        ("portfolios", portfolio["id"], {"owner_id": archived["id"]}, "person_not_found"),
        ("portfolios", portfolio["id"], {"parent_id": str(uuid.uuid4())}, "portfolio_not_found"),
    ]
    for path, ref, body, code in cases:
        refused = await api.patch(f"/api/v1/{path}/{ref}", json=body)
        problem = assert_problem(refused, 422, code)
        assert [e["loc"] for e in problem["errors"]] == [["body", *body]], problem
    assert await api.table_counts() == before
    manager = await api.make_person()
    moved = await api.patch(f"/api/v1/projects/{project['id']}", json={"manager_id": manager["id"]})
    assert moved.status_code == 200 and moved.json()["manager_id"] == manager["id"]
