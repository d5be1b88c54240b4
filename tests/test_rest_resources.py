"""Resource rules of people, portfolios and projects, and the cost of a page in SQL."""

from __future__ import annotations

import uuid

from tests.conftest import Api, new_key
from tests.test_rest_conventions import assert_problem


async def test_portfolios_nest_and_refuse_cycles(api: Api) -> None:
    top = await api.make_portfolio()
    mid = await api.make_portfolio(parent_id=top["id"])
    leaf = await api.make_portfolio(parent_id=mid["id"])
    before = await api.table_counts()
    for parent in (leaf, mid):
        cycle = await api.patch(f"/api/v1/portfolios/{top['id']}", json={"parent_id": parent["id"]})
        assert_problem(cycle, 422, "portfolio_cycle")
    itself = await api.patch(f"/api/v1/portfolios/{mid['key']}", json={"parent_id": mid["id"]})
    assert_problem(itself, 422, "portfolio_cycle")
    assert await api.table_counts() == before
    # Moving a leaf elsewhere is fine; so is making it top-level again.
    other = await api.make_portfolio()
    moved = await api.patch(f"/api/v1/portfolios/{leaf['id']}", json={"parent_id": other["id"]})
    assert moved.status_code == 200 and moved.json()["parent_id"] == other["id"]
    root = await api.patch(f"/api/v1/portfolios/{leaf['id']}", json={"parent_id": None})
    assert root.json()["parent_id"] is None
    children = await api.get("/api/v1/portfolios", params={"parent_id": top["id"]})
    assert [p["id"] for p in children.json()["items"]] == [mid["id"]]


async def test_portfolio_projects_with_sub_portfolios(api: Api) -> None:
    top = await api.make_portfolio()
    sub = await api.make_portfolio(parent_id=top["id"])
    direct = await api.make_project(top["id"])
    nested = await api.make_project(sub["id"])
    only_direct = await api.get(f"/api/v1/portfolios/{top['key']}/projects")
    assert [p["id"] for p in only_direct.json()["items"]] == [direct["id"]]
    everything = await api.get(
        f"/api/v1/portfolios/{top['id']}/projects", params={"include_sub_portfolios": "true"}
    )
    assert sorted(p["id"] for p in everything.json()["items"]) == sorted(
        [direct["id"], nested["id"]]
    )
    assert_problem(await api.get(f"/api/v1/portfolios/{uuid.uuid4()}/projects"), 404)


async def test_portfolio_with_live_projects_cannot_be_archived(api: Api) -> None:
    portfolio = await api.make_portfolio()
    project = await api.make_project(portfolio["id"])
    assert_problem(await api.delete(f"/api/v1/portfolios/{portfolio['id']}"), 409)
    await api.delete(f"/api/v1/projects/{project['id']}")
    archived = await api.delete(f"/api/v1/portfolios/{portfolio['id']}")
    assert archived.status_code == 200
    refused = await api.post(
        "/api/v1/projects",
        json={
            "key": "ARCH-" + uuid.uuid4().hex[:6].upper(),
            "name": "x",
            "portfolio_id": portfolio["id"],
        },
    )
    assert_problem(refused, 422, "portfolio_not_found")


async def test_people_emails_are_normalised_and_filterable(api: Api) -> None:
    person = await api.make_person(email=f"Ada.{uuid.uuid4().hex[:6]}@Example.COM", name="Ada")
    assert person["email"] == person["email"].lower()
    found = await api.get("/api/v1/people", params={"email": person["email"].upper()})
    assert [p["id"] for p in found.json()["items"]] == [person["id"]]
    updated = await api.patch(
        f"/api/v1/people/{person['id']}",
        json={"skills": [{"skill": "risk management", "level": 4}], "active": False},
    )
    assert updated.json()["skills"] == [{"skill": "risk management", "level": 4}]
    inactive = await api.get("/api/v1/people", params={"active": "false", "q": "Ada"})
    assert person["id"] in [p["id"] for p in inactive.json()["items"]]


async def test_project_exposes_every_contract_field(api: Api) -> None:
    sponsor = await api.make_person(name="Sponsor")
    project = await api.make_project(
        description="Replace the ERP",
        manager_id=api.people["manager"]["id"],
        sponsor_id=sponsor["id"],
        methodology="hybrid",
        phase="initiation",
        status="active",
        health="amber",
        priority_score=80,
        planned_budget=1_250_000.10,
        planned_start="2027-01-04",
        planned_end="2027-12-17",
        actual_start="2027-01-11",
        percent_complete=5,
        attributes={"region": "emea", "capex": True},
    )
    assert project["planned_budget"] == 1_250_000.10
    assert project["actual_cost"] == 0
    assert project["attributes"] == {"region": "emea", "capex": True}
    expected = {
        "id",
        "key",
        "name",
        "description",
        "portfolio_id",
        "manager_id",
        "sponsor_id",
        "methodology",
        "methodology_id",
        "phase",
        "status",
        "health",
        "priority_score",
        "planned_budget",
        "actual_cost",
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
        "percent_complete",
        "attributes",
        "template_id",
        "baseline_id",
        "version",
        "created_at",
        "updated_at",
        "archived_at",
    }
    assert set(project) == expected


async def test_project_list_costs_a_fixed_number_of_statements(api: Api) -> None:
    portfolio = await api.make_portfolio()
    for i in range(50):
        await api.make_project(portfolio["id"], name=f"Counted {i}")
    counts = {}
    for limit in (10, 50):
        with api.count_statements() as counter:
            response = await api.get(
                "/api/v1/projects", params={"portfolio_id": portfolio["id"], "limit": limit}
            )
        assert response.status_code == 200
        assert len(response.json()["items"]) == limit
        counts[limit] = counter.count
    # Authenticate the key, then one keyset query; no transaction around reads.
    assert counts == {10: 2, 50: 2}, api.counter.statements


async def test_single_project_read_costs_two_statements_then_one(api: Api) -> None:
    # Reads run without a transaction on both databases: no BEGIN, no COMMIT.
    project = await api.make_project()
    with api.count_statements() as counter:
        response = await api.get(f"/api/v1/projects/{project['key']}")
    assert response.status_code == 200
    assert counter.count == 2, counter.statements  # the key, the project
    # The key was just checked: the process remembers it briefly.
    with api.count_statements(cold_auth=False) as counter:
        response = await api.get(f"/api/v1/projects/{project['key']}")
    assert response.status_code == 200
    assert counter.count == 1, counter.statements


async def test_api_root_names_currency_and_caller(api: Api) -> None:
    response = await api.get("/api/v1", "viewer")
    assert response.status_code == 200
    body = response.json()
    assert body["currency"] == "USD"
    assert body["caller"] == {"name": "test viewer", "role": "viewer"}


async def test_create_with_idempotency_key_costs_a_fixed_number_of_statements(api: Api) -> None:
    """A create with an Idempotency-Key. On PostgreSQL one statement does it all: the
    references checked, the key claimed with the response to replay, the project and its
    audit event inserted (``db.writes``); its replay is that statement finding the key
    taken, then one read of the stored response. On SQLite, in one transaction: claim
    the key (one upsert), check the references (one select), insert the project and its
    audit event, store the response; the replay claims and reads."""
    portfolio = await api.make_portfolio()
    manager = await api.make_person()
    body = {
        "key": new_key(),
        "name": "Counted create",
        "portfolio_id": portfolio["id"],
        "manager_id": manager["id"],
    }
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    with api.count_statements(cold_auth=False) as counter:
        created = await api.post("/api/v1/projects", json=body, headers=headers)
    assert created.status_code == 201, created.text
    writes = [s for s in counter.statements if s.split()[0] not in ("BEGIN", "COMMIT")]
    expected = ["WITH"] if api.backend == "postgresql" else ["INSERT"] * 3 + ["SELECT", "UPDATE"]
    assert sorted(s.split()[0] for s in writes) == expected, counter.statements
    with api.count_statements(cold_auth=False) as counter:
        replayed = await api.post("/api/v1/projects", json=body, headers=headers)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.content == created.content
    reads = [s for s in counter.statements if s.split()[0] not in ("BEGIN", "COMMIT")]
    first = "WITH" if api.backend == "postgresql" else "INSERT"
    assert [s.split()[0] for s in reads] == [first, "SELECT"], counter.statements
    # What was written is what the trail and the GET show.
    read = await api.get(f"/api/v1/projects/{created.json()['id']}")
    assert read.json() == created.json()
    assert read.headers["etag"] == created.headers["etag"]
    trail = await api.get(f"/api/v1/audit-events?entity_id={created.json()['id']}")
    assert [e["action"] for e in trail.json()["items"]] == ["project.created"]


async def test_lists_of_one_shape_answer_each_request_with_its_own_values(api: Api) -> None:
    """A list's statement is built once per shape and its values bound per request
    (``Repository.list_template``): the same filters with other values, other numbers of
    values, and pages after other positions each get their own rows."""
    first, second = await api.make_portfolio(), await api.make_portfolio()
    made: dict[str, list[str]] = {first["id"]: [], second["id"]: []}
    for portfolio in (first, second):
        for status in ("active", "active", "proposed", "on_hold"):
            project = await api.make_project(portfolio["id"], status=status)
            made[portfolio["id"]].append(project["key"])

    async def keys(**params: object) -> list[str]:
        response = await api.get("/api/v1/projects", params=params)
        assert response.status_code == 200, response.text
        return [p["key"] for p in response.json()["items"]]

    for portfolio in (first, second):
        own = made[portfolio["id"]]
        assert await keys(portfolio_id=portfolio["id"]) == sorted(own)
        assert await keys(portfolio_id=portfolio["id"], status="active") == sorted(own[:2])
        assert await keys(portfolio_id=portfolio["id"], status=["active", "on_hold"]) == sorted(
            own[:2] + own[3:]
        )
        assert await keys(portfolio_id=portfolio["id"], status="on_hold") == own[3:]
        # Page by page, each page after its own position.
        walked: list[str] = []
        cursor = None
        while True:
            params: dict[str, object] = {"portfolio_id": portfolio["id"], "limit": 1}
            if cursor:
                params["cursor"] = cursor
            page = (await api.get("/api/v1/projects", params=params)).json()
            walked += [p["key"] for p in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert walked == sorted(own)
    people = [await api.make_person(name=f"Same shape {i}") for i in range(2)]
    for person in people:
        found = await api.get("/api/v1/people", params={"email": person["email"]})
        assert [p["id"] for p in found.json()["items"]] == [person["id"]]


async def test_a_list_item_prints_its_fields_as_the_single_read_does(api: Api) -> None:
    """Pages of rows are printed by orjson where every field is plain
    (``responses._plain_fields``): the same values, in the same form, as the single
    read printed by pydantic (money as a number, UTC instants with ``Z``, dates, JSON)."""
    portfolio = await api.make_portfolio()
    project = await api.make_project(
        portfolio["id"],
        planned_budget="1250.50",
        planned_start="2026-01-05",
        attributes={"cost_center": "CC-1", "gated": True, "weight": 0.25, "seats": 12},
    )
    single = (await api.get(f"/api/v1/projects/{project['id']}")).json()
    listed = await api.get("/api/v1/projects", params={"portfolio_id": portfolio["id"]})
    (item,) = listed.json()["items"]
    assert item.pop("open_risk_count") == 0
    assert item == single
    assert item["planned_budget"] == 1250.5 and item["actual_cost"] == 0
    assert item["created_at"].endswith("Z") and item["planned_start"] == "2026-01-05"
    assert item["attributes"] == {
        "cost_center": "CC-1",
        "gated": True,
        "weight": 0.25,
        "seats": 12,
    }
