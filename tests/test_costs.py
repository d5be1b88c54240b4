"""Costs: dated entries whose exact sum is the project's actual cost, kept consistent
under concurrent writers, through both doors, on both databases."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text

from tests.conftest import Api


def _entry(amount: str | float, **fields: Any) -> dict[str, Any]:
    return {
        "incurred_on": "2027-03-01",
        "amount": amount,
        "category": "services",
        "description": "Consulting",
        **fields,
    }


async def _cost_rows(api: Api) -> int:
    async with api.app.state.pmo.engine.connect() as connection:
        return int(
            (await connection.execute(text("SELECT count(*) FROM cost_entries"))).scalar_one()
        )


async def _actual_cost(api: Api, project_id: str) -> Decimal:
    response = await api.get(f"/api/v1/projects/{project_id}")
    assert response.status_code == 200, response.text
    # The JSON number as written, not as a float: exactness is the point.
    raw = response.text.split('"actual_cost":', 1)[1].split(",", 1)[0]
    return Decimal(raw)


async def _events(api: Api, entity_id: str) -> list[dict[str, Any]]:
    response = await api.get("/api/v1/audit-events", params={"entity_id": entity_id})
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))  # oldest first


async def test_cost_life_cycle_keeps_actual_cost_exact(api: Api) -> None:
    project = await api.make_project()
    costs = f"/api/v1/projects/{project['id']}/costs"

    first = await api.post(costs, json=_entry(0.10, reference="INV-1"))
    assert first.status_code == 201, first.text
    cost = first.json()
    assert first.headers["location"] == f"/api/v1/costs/{cost['id']}"
    assert first.headers["etag"] == '"1"'
    assert cost["amount"] == 0.1
    assert cost["reference"] == "INV-1"
    assert cost["project_id"] == project["id"]
    second = await api.post(costs, json=_entry("0.20", category="travel"))
    assert second.status_code == 201, second.text
    assert await _actual_cost(api, project["id"]) == Decimal("0.30")
    assert (await api.get(f"/api/v1/projects/{project['id']}")).json()["actual_cost"] == 0.3

    # A change of amount is recomputed; a change of anything else leaves the total alone.
    path = f"/api/v1/costs/{cost['id']}"
    changed = await api.patch(path, json={"amount": 1.15}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    assert await _actual_cost(api, project["id"]) == Decimal("1.35")
    renamed = await api.patch(path, json={"description": "Other"})
    assert renamed.status_code == 200
    assert await _actual_cost(api, project["id"]) == Decimal("1.35")

    # A credit is a negative entry.
    credit = await api.post(costs, json=_entry(-0.15, category="other"))
    assert credit.status_code == 201, credit.text
    assert credit.json()["amount"] == -0.15
    assert await _actual_cost(api, project["id"]) == Decimal("1.20")

    # An archived entry no longer counts.
    archived = await api.delete(path, headers={"If-Match": '"3"'})
    assert archived.status_code == 200, archived.text
    assert archived.json()["archived_at"] is not None
    assert await _actual_cost(api, project["id"]) == Decimal("0.05")
    assert (await api.get(path)).json()["archived_at"] is not None


async def test_archiving_an_entry_removes_it_from_the_actual_cost(api: Api) -> None:
    project = await api.make_project()
    costs = f"/api/v1/projects/{project['id']}/costs"
    kept = (await api.post(costs, json=_entry(100))).json()
    dropped = (await api.post(costs, json=_entry(25.5))).json()
    assert await _actual_cost(api, project["id"]) == Decimal("125.50")
    response = await api.delete(f"/api/v1/costs/{dropped['id']}")
    assert response.status_code == 200, response.text
    assert await _actual_cost(api, project["id"]) == Decimal("100.00")
    listed = (await api.get(costs)).json()["items"]
    assert [c["id"] for c in listed] == [kept["id"]]
    everything = (await api.get(costs, params={"include_archived": "true"})).json()["items"]
    assert {c["id"] for c in everything} == {kept["id"], dropped["id"]}
    # Archived is final for changes and for a second archive.
    again = await api.delete(f"/api/v1/costs/{dropped['id']}")
    assert again.status_code == 409
    assert again.json()["code"] == "already_archived"
    patched = await api.patch(f"/api/v1/costs/{dropped['id']}", json={"amount": 3})
    assert patched.status_code == 409
    assert patched.json()["code"] == "cost_archived"


async def test_writes_record_cost_and_project_events(api: Api) -> None:
    project = await api.make_project()
    costs = f"/api/v1/projects/{project['id']}/costs"
    cost = (await api.post(costs, json=_entry(40))).json()
    await api.patch(f"/api/v1/costs/{cost['id']}", json={"amount": 55.25})
    await api.delete(f"/api/v1/costs/{cost['id']}")

    cost_events = await _events(api, cost["id"])
    assert [e["action"] for e in cost_events] == ["cost.recorded", "cost.updated", "cost.archived"]
    assert cost_events[0]["changes"]["amount"] == {"before": None, "after": "40.00"}
    assert cost_events[1]["changes"]["amount"] == {"before": "40.00", "after": "55.25"}
    project_events = [
        e for e in await _events(api, project["id"]) if e["action"] == "project.updated"
    ]
    assert [e["changes"]["actual_cost"] for e in project_events] == [
        {"before": "0.00", "after": "40.00"},
        {"before": "40.00", "after": "55.25"},
        {"before": "55.25", "after": "0.00"},
    ]
    # The project's version moved with its actual cost (ETags stay honest).
    assert (await api.get(f"/api/v1/projects/{project['id']}")).json()["version"] == 4


async def test_concurrent_entries_sum_exactly(api: Api) -> None:
    project = await api.make_project()
    costs = f"/api/v1/projects/{project['id']}/costs"
    amounts = [Decimal(f"{n}.{n:02d}") for n in range(1, 26)]

    async def post(amount: Decimal) -> httpx.Response:
        for _ in range(20):
            response = await api.post(costs, json=_entry(str(amount)))
            if response.status_code != 503:  # SQLite busy: the client retries
                return response
            await asyncio.sleep(0.05)
        return response

    responses = await asyncio.gather(*(post(amount) for amount in amounts))
    assert [r.status_code for r in responses] == [201] * len(amounts), [
        r.text for r in responses if r.status_code != 201
    ]
    assert await _actual_cost(api, project["id"]) == sum(amounts)
    assert sum(amounts) == Decimal("328.25")
    listed = await api.get(costs, params={"limit": 50})
    assert sorted(Decimal(str(c["amount"])) for c in listed.json()["items"]) == amounts
    # Each write recomputed the figure under the lock: 25 project updates, none lost.
    updates = [e for e in await _events(api, project["id"]) if e["action"] == "project.updated"]
    assert len(updates) == len(amounts)
    assert updates[-1]["changes"]["actual_cost"]["after"] == "328.25"
    assert (await api.get(f"/api/v1/projects/{project['id']}")).json()["version"] == 26


async def test_cost_on_an_archived_project_is_refused_and_writes_nothing(api: Api) -> None:
    project = await api.make_project()
    cost = (await api.post(f"/api/v1/projects/{project['id']}/costs", json=_entry(10))).json()
    assert (await api.delete(f"/api/v1/projects/{project['id']}")).status_code == 200
    before, rows = await api.table_counts(), await _cost_rows(api)
    response = await api.post(f"/api/v1/projects/{project['id']}/costs", json=_entry(5))
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "project_archived"
    changed = await api.patch(f"/api/v1/costs/{cost['id']}", json={"amount": 5})
    assert changed.status_code == 409
    assert changed.json()["code"] == "project_archived"
    assert await api.table_counts() == before
    assert await _cost_rows(api) == rows


async def test_correction_below_zero_is_refused_and_writes_nothing(api: Api) -> None:
    project = await api.make_project()
    costs = f"/api/v1/projects/{project['id']}/costs"
    cost = (await api.post(costs, json=_entry(10))).json()
    before, rows = await api.table_counts(), await _cost_rows(api)

    response = await api.post(costs, json=_entry(-10.01))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "actual_cost_negative"
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "amount"]]
    lowered = await api.patch(f"/api/v1/costs/{cost['id']}", json={"amount": -1})
    assert lowered.status_code == 422
    assert lowered.json()["code"] == "actual_cost_negative"
    assert [e["loc"] for e in lowered.json()["errors"]] == [["body", "amount"]]
    assert await api.table_counts() == before
    assert await _cost_rows(api) == rows
    assert await _actual_cost(api, project["id"]) == Decimal("10.00")
    assert (await api.get(f"/api/v1/costs/{cost['id']}")).json()["version"] == 1

    # A correction down to exactly 0 is allowed.
    assert (await api.post(costs, json=_entry(-10))).status_code == 201
    assert await _actual_cost(api, project["id"]) == Decimal("0.00")
    # ... and archiving the positive entry would leave -10: refused for the state the
    # entries are in (409), not for anything sent.
    before = await api.table_counts()
    refused = await api.delete(f"/api/v1/costs/{cost['id']}")
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "actual_cost_negative"
    assert not refused.json().get("errors")
    assert await api.table_counts() == before
    kept = (await api.get(f"/api/v1/costs/{cost['id']}")).json()
    assert (kept["archived_at"], kept["version"]) == (None, 1)
    assert await _actual_cost(api, project["id"]) == Decimal("0.00")


async def test_actual_cost_past_the_largest_amount_is_refused_and_writes_nothing(
    api: Api,
) -> None:
    project = await api.make_project()
    costs = f"/api/v1/projects/{project['id']}/costs"
    largest = await api.post(costs, json=_entry("999999999999.99"))
    assert largest.status_code == 201, largest.text
    credit = (await api.post(costs, json=_entry(-5))).json()
    assert (await api.post(costs, json=_entry(3))).status_code == 201
    assert await _actual_cost(api, project["id"]) == Decimal("999999999997.99")
    version = (await api.get(f"/api/v1/projects/{project['id']}")).json()["version"]
    before, rows = await api.table_counts(), await _cost_rows(api)

    over = await api.post(costs, json=_entry("2.01"))
    assert over.status_code == 422, over.text
    assert over.headers["content-type"].startswith("application/problem+json")
    assert over.json()["code"] == "actual_cost_too_large"
    assert [e["loc"] for e in over.json()["errors"]] == [["body", "amount"]]
    raised = await api.patch(f"/api/v1/costs/{credit['id']}", json={"amount": 1})
    assert raised.status_code == 422, raised.text
    assert raised.json()["code"] == "actual_cost_too_large"
    assert [e["loc"] for e in raised.json()["errors"]] == [["body", "amount"]]
    # Archiving the credit would lift the total past the largest amount: 409.
    archived = await api.delete(f"/api/v1/costs/{credit['id']}")
    assert archived.status_code == 409, archived.text
    assert archived.json()["code"] == "actual_cost_too_large"
    gql = await api.gql(RECORD, {"project": project["id"], "input": _gql_entry(2.01)})
    assert gql["data"]["recordCost"]["__typename"] == "ValidationError", gql
    assert gql["data"]["recordCost"]["code"] == "actual_cost_too_large"

    assert await api.table_counts() == before
    assert await _cost_rows(api) == rows
    fetched = await api.get(f"/api/v1/projects/{project['id']}")
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["version"] == version
    assert await _actual_cost(api, project["id"]) == Decimal("999999999997.99")
    kept = (await api.get(f"/api/v1/costs/{credit['id']}")).json()
    assert (kept["amount"], kept["archived_at"], kept["version"]) == (-5.0, None, 1)
    # Exactly the largest amount is fine.
    assert (await api.post(costs, json=_entry(2))).status_code == 201
    assert await _actual_cost(api, project["id"]) == Decimal("999999999999.99")


async def test_bad_cost_input_is_422_and_writes_nothing(api: Api) -> None:
    project = await api.make_project()
    costs = f"/api/v1/projects/{project['id']}/costs"
    before, rows = await api.table_counts(), await _cost_rows(api)
    bad_bodies = [
        _entry(0),
        _entry("0.00"),
        _entry(1.234),
        _entry(10, category="food"),
        _entry(10, description=""),
        _entry(10, incurred_on="2027-02-30"),
        _entry(10, unknown="x"),
        _entry(1e15),
        {"amount": 10, "category": "services", "description": "no date"},
    ]
    for body in bad_bodies:
        response = await api.post(costs, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    cost = (await api.post(costs, json=_entry(1))).json()
    for patch in ({"amount": 0}, {"amount": None}, {"category": None}):
        response = await api.patch(f"/api/v1/costs/{cost['id']}", json=patch)
        assert response.status_code == 422, (patch, response.text)
    after = await api.table_counts()
    assert after["audit_events"] == before["audit_events"] + 2  # the one good entry
    assert await _cost_rows(api) == rows + 1


async def test_cost_roles(api: Api) -> None:
    manager_id = api.people["manager"]["id"]
    own = await api.make_project(manager_id=manager_id)
    other = await api.make_project()
    before, rows = await api.table_counts(), await _cost_rows(api)
    for role, project in (("viewer", own), ("other_manager", own), ("manager", other)):
        response = await api.post(f"/api/v1/projects/{project['id']}/costs", role, json=_entry(1))
        assert response.status_code == 403, (role, response.text)
        assert response.json()["code"] == "project_forbidden"
    assert await api.table_counts() == before
    assert await _cost_rows(api) == rows

    created = await api.post(f"/api/v1/projects/{own['id']}/costs", "manager", json=_entry(2))
    assert created.status_code == 201, created.text
    path = f"/api/v1/costs/{created.json()['id']}"
    assert (await api.patch(path, "viewer", json={"amount": 3})).status_code == 403
    assert (await api.delete(path, "other_manager")).status_code == 403
    assert (await api.patch(path, "manager", json={"amount": 3})).status_code == 200
    assert (await api.get(path, "viewer")).status_code == 200
    assert (await api.get(f"/api/v1/projects/{own['id']}/costs", "viewer")).status_code == 200
    pmo = await api.post(f"/api/v1/projects/{other['id']}/costs", "pmo", json=_entry(4))
    assert pmo.status_code == 201


async def test_cost_version_and_idempotency(api: Api) -> None:
    project = await api.make_project()
    costs = f"/api/v1/projects/{project['id']}/costs"
    key = str(uuid.uuid4())
    first = await api.post(costs, json=_entry(7), headers={"Idempotency-Key": key})
    replay = await api.post(costs, json=_entry(7), headers={"Idempotency-Key": key})
    assert first.status_code == replay.status_code == 201
    assert replay.json()["id"] == first.json()["id"]
    assert await _actual_cost(api, project["id"]) == Decimal("7.00")
    other_body = await api.post(costs, json=_entry(8), headers={"Idempotency-Key": key})
    assert other_body.status_code == 422

    path = f"/api/v1/costs/{first.json()['id']}"
    stale = await api.patch(path, json={"amount": 9}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "version_mismatch"
    assert (await api.delete(path, headers={"If-Match": '"2"'})).status_code == 412
    assert await _actual_cost(api, project["id"]) == Decimal("7.00")
    unknown = await api.get(f"/api/v1/costs/{uuid.uuid4()}")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "cost_not_found"


async def test_cost_list_filters_sorts_and_pages(api: Api) -> None:
    project = await api.make_project()
    costs = f"/api/v1/projects/{project['id']}/costs"
    rows = [
        ("2027-01-10", 30, "labour"),
        ("2027-01-05", 10, "travel"),
        ("2027-02-01", 20, "labour"),
        ("2027-03-01", 50, "licences"),
        ("2027-01-05", 40, "materials"),
    ]
    ids = {}
    for day, amount, category in rows:
        response = await api.post(costs, json=_entry(amount, incurred_on=day, category=category))
        ids[amount] = response.json()["id"]

    listed = (await api.get(costs)).json()["items"]
    assert [c["incurred_on"] for c in listed] == sorted(day for day, _, _ in rows)
    by_amount = (await api.get(costs, params={"sort": "-amount"})).json()["items"]
    assert [c["amount"] for c in by_amount] == [50, 40, 30, 20, 10]
    labour = await api.get(costs, params=[("category", "labour"), ("category", "travel")])
    assert sorted(c["amount"] for c in labour.json()["items"]) == [10, 20, 30]
    window = await api.get(
        costs, params={"incurred_from": "2027-01-06", "incurred_to": "2027-02-01"}
    )
    assert sorted(c["amount"] for c in window.json()["items"]) == [20, 30]
    assert (await api.get(costs, params={"category": "food"})).status_code == 422
    assert (await api.get(costs, params={"sort": "description"})).status_code == 422

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "sort": "amount"}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get(costs, params=params)).json()
        seen.extend(c["id"] for c in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [ids[a] for a in (10, 20, 30, 40, 50)]
    missing = await api.get(f"/api/v1/projects/{uuid.uuid4()}/costs")
    assert missing.status_code == 404

    csv = await api.get(costs, params={"format": "csv", "sort": "amount"})
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert "amount" in lines[0] and "incurred_on" in lines[0]
    assert len(lines) == 1 + len(rows)

    # Polling for changes: updated_since with sort=updated_at sees only the new change.
    last = (await api.get(costs, params={"sort": "-updated_at", "limit": 1})).json()["items"][0]
    changed = await api.patch(f"/api/v1/costs/{ids[10]}", json={"description": "Re-filed"})
    since = await api.get(costs, params={"updated_since": last["updated_at"], "sort": "updated_at"})
    assert [c["id"] for c in since.json()["items"]][-1] == changed.json()["id"]
    assert ids[10] in {c["id"] for c in since.json()["items"]}
    assert len(since.json()["items"]) <= 2


# --- GraphQL ---------------------------------------------------------------------------

COST_FIELDS = """
    __typename
    ... on CostPayload { cost { id uuid amount category incurredOn reference version
                                archivedAt project { actualCost version } } }
    ... on Error { code message }
    ... on ValidationError { errors { loc msg } }
"""
VERSION = "... on VersionMismatchError { currentVersion }"
RECORD = (
    "mutation($project: ID!, $input: RecordCostInput!) {"
    " recordCost(projectId: $project, input: $input) {" + COST_FIELDS + "} }"
)
UPDATE = (
    "mutation($id: ID!, $input: UpdateCostInput!, $v: Int) {"
    " updateCost(id: $id, input: $input, expectedVersion: $v) {" + COST_FIELDS + VERSION + "} }"
)
ARCHIVE = (
    "mutation($id: ID!, $v: Int) { archiveCost(id: $id, expectedVersion: $v) {"
    + COST_FIELDS
    + VERSION
    + "} }"
)


def _gql_entry(amount: float, **fields: Any) -> dict[str, Any]:
    return {
        "incurredOn": "2027-03-01",
        "amount": amount,
        "category": "LABOUR",
        "description": "Build",
        **fields,
    }


async def test_cost_life_cycle_over_graphql(api: Api) -> None:
    project = await api.make_project()
    first = await api.gql(RECORD, {"project": project["key"], "input": _gql_entry(0.1)})
    payload = first["data"]["recordCost"]
    assert payload["__typename"] == "CostPayload", payload
    cost = payload["cost"]
    assert cost["amount"] == 0.1
    assert cost["category"] == "LABOUR"
    assert cost["project"]["actualCost"] == 0.1
    second = await api.gql(
        RECORD, {"project": project["id"], "input": _gql_entry(0.2, reference="PO-9")}
    )
    assert second["data"]["recordCost"]["cost"]["project"]["actualCost"] == 0.3
    assert second["data"]["recordCost"]["cost"]["reference"] == "PO-9"
    assert await _actual_cost(api, project["id"]) == Decimal("0.30")

    updated = await api.gql(UPDATE, {"id": cost["id"], "input": {"amount": 2.5}, "v": 1})
    assert updated["data"]["updateCost"]["cost"]["version"] == 2
    assert updated["data"]["updateCost"]["cost"]["project"]["actualCost"] == 2.7
    stale = await api.gql(UPDATE, {"id": cost["id"], "input": {"amount": 3}, "v": 1})
    assert stale["data"]["updateCost"] == {
        "__typename": "VersionMismatchError",
        "code": "version_mismatch",
        "message": stale["data"]["updateCost"]["message"],
        "currentVersion": 2,
    }

    node = await api.gql(
        "query($id: ID!) { node(id: $id) { __typename ... on CostEntry { uuid amount } } }",
        {"id": cost["id"]},
    )
    assert node["data"]["node"] == {"__typename": "CostEntry", "uuid": cost["uuid"], "amount": 2.5}

    archived = await api.gql(ARCHIVE, {"id": cost["id"]})
    assert archived["data"]["archiveCost"]["cost"]["archivedAt"] is not None
    assert archived["data"]["archiveCost"]["cost"]["project"]["actualCost"] == 0.2
    assert await _actual_cost(api, project["id"]) == Decimal("0.20")
    events = [e["action"] for e in await _events(api, cost["uuid"])]
    assert events == ["cost.recorded", "cost.updated", "cost.archived"]


async def test_graphql_cost_refusals_are_typed_and_write_nothing(api: Api) -> None:
    project = await api.make_project()
    closed = await api.make_project()
    assert (await api.delete(f"/api/v1/projects/{closed['id']}")).status_code == 200
    await api.gql(RECORD, {"project": project["id"], "input": _gql_entry(5)})
    before, rows = await api.table_counts(), await _cost_rows(api)

    negative = await api.gql(RECORD, {"project": project["id"], "input": _gql_entry(-5.01)})
    assert negative["data"]["recordCost"]["__typename"] == "ValidationError"
    assert negative["data"]["recordCost"]["code"] == "actual_cost_negative"
    zero = await api.gql(RECORD, {"project": project["id"], "input": _gql_entry(0)})
    assert zero["data"]["recordCost"]["__typename"] == "ValidationError"
    assert zero["data"]["recordCost"]["errors"][0]["loc"] == ["input", "amount"]
    on_closed = await api.gql(RECORD, {"project": closed["id"], "input": _gql_entry(1)})
    assert on_closed["data"]["recordCost"]["__typename"] == "ConflictError"
    assert on_closed["data"]["recordCost"]["code"] == "project_archived"
    viewer = await api.gql(
        RECORD, {"project": project["id"], "input": _gql_entry(1)}, role="viewer"
    )
    assert viewer["data"]["recordCost"]["__typename"] == "ForbiddenError"
    unknown = await api.gql(RECORD, {"project": str(uuid.uuid4()), "input": _gql_entry(1)})
    assert unknown["data"]["recordCost"]["__typename"] == "NotFoundError"
    assert await api.table_counts() == before
    assert await _cost_rows(api) == rows
    assert await _actual_cost(api, project["id"]) == Decimal("5.00")


NESTED_COSTS = """query($q: String, $first: Int!) {
    projects(first: $first, filter: {q: $q}) { nodes { key actualCost
        costs(first: 2) { nodes { amount incurredOn } pageInfo { hasNextPage endCursor } }
        assignments(first: 2) { nodes { role } } } } }"""


async def test_nested_costs_are_batched_and_page_on(api: Api) -> None:
    token = uuid.uuid4().hex[:12]
    projects = []
    for i in range(6):
        project = await api.make_project(name=f"Costs {token} {i}")
        projects.append(project)
        for day, amount in (("2027-01-03", 1 + i), ("2027-01-01", 10 + i), ("2027-01-02", 20)):
            response = await api.post(
                f"/api/v1/projects/{project['id']}/costs",
                json=_entry(amount, incurred_on=day),
            )
            assert response.status_code == 201
    # An archived entry is left out of the connection.
    hidden = await api.post(
        f"/api/v1/projects/{projects[0]['id']}/costs", json=_entry(99, incurred_on="2026-12-31")
    )
    assert (await api.delete(f"/api/v1/costs/{hidden.json()['id']}")).status_code == 200

    begin = 1 if api.backend == "sqlite" else 0
    for first in (2, 6):
        with api.count_statements() as counter:
            body = await api.gql(NESTED_COSTS, {"q": token, "first": first})
        assert "errors" not in body, body
        nodes = body["data"]["projects"]["nodes"]
        assert len(nodes) == first
        # authenticate + the projects + one statement of costs + one of assignments
        assert counter.count == begin + 4, counter.statements
    by_key = {n["key"]: n for n in nodes}
    for i, project in enumerate(projects):
        costs = by_key[project["key"]]["costs"]
        assert [c["incurredOn"] for c in costs["nodes"]] == ["2027-01-01", "2027-01-02"]
        assert [c["amount"] for c in costs["nodes"]] == [10 + i, 20]
        assert costs["pageInfo"]["hasNextPage"] is True
        assert by_key[project["key"]]["actualCost"] == 31 + 2 * i
        assert by_key[project["key"]]["assignments"]["nodes"] == []

    cursor = by_key[projects[0]["key"]]["costs"]["pageInfo"]["endCursor"]
    rest = await api.gql(
        """query($key: String!, $after: String) { project(idOrKey: $key) {
            costs(first: 2, after: $after) { nodes { amount } pageInfo { hasNextPage } } } }""",
        {"key": projects[0]["key"], "after": cursor},
    )
    assert rest["data"]["project"]["costs"] == {
        "nodes": [{"amount": 1}],
        "pageInfo": {"hasNextPage": False},
    }
    # The REST list walks the same order with the same cursors.
    page = await api.get(
        f"/api/v1/projects/{projects[0]['id']}/costs", params={"limit": 2, "cursor": cursor}
    )
    assert [c["amount"] for c in page.json()["items"]] == [1]
