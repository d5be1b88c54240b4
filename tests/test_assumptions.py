"""Assumptions, the record type added through its declaration alone
(``assumptions/declaration.py``): through REST and GraphQL on both databases, its life
cycle, lists (filters, sorts, undated last, cursors), refusals that write nothing, the
object rules, the audit trail, and the SQL cost of its reads."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Api, new_key
from tests.test_raid import audit, data, gid, managed_project, ok
from tests.test_rest_conventions import assert_problem

FIELDS = "uuid title description status resolution validateBy version archivedAt owner { name }"


async def _add(api: Api, project: dict[str, Any], role: str = "admin", **body: Any) -> Any:
    return await api.post(
        f"/api/v1/projects/{project['id']}/assumptions", role, json={"title": "A", **body}
    )


async def test_an_assumption_life_cycle(api: Api) -> None:
    project = await managed_project(api)
    owner = await api.make_person(name="Assumption owner")
    created = await api.post(
        f"/api/v1/projects/{project['key']}/assumptions",
        "manager",
        json={
            "title": "The vendor keeps its price",
            "description": "Quoted until March",
            "owner_id": owner["id"],
            "validate_by": "2027-03-01",
        },
    )
    assumption = await ok(created, 201)
    path = f"/api/v1/assumptions/{assumption['id']}"
    assert created.headers["location"] == path
    assert created.headers["etag"] == '"1"'
    assert {k: assumption[k] for k in ("status", "resolution", "project_id", "version")} == {
        "status": "open",
        "resolution": None,
        "project_id": project["id"],
        "version": 1,
    }
    assert await ok(await api.get(path, "viewer")) == assumption
    etag = (await api.get(path)).headers["etag"]
    assert (await api.get(path, headers={"If-None-Match": etag})).status_code == 304

    # Validated needs a resolution: refused, nothing written.
    before = await api.table_counts()
    assert_problem(
        await api.patch(path, "manager", json={"status": "validated"}), 422, "resolution_required"
    )
    stale = await api.patch(path, json={"title": "X"}, headers={"If-Match": '"2"'})
    assert_problem(stale, 412, "version_mismatch")
    assert await api.table_counts() == before

    validated = await ok(
        await api.patch(
            path,
            "manager",
            json={"status": "validated", "resolution": "Signed contract"},
            headers={"If-Match": '"1"'},
        )
    )
    assert (validated["status"], validated["version"]) == ("validated", 2)
    # Reopened: the resolution may stay or be cleared; settled again, it must be there.
    reopened = await ok(await api.patch(path, json={"status": "open", "resolution": None}))
    assert (reopened["status"], reopened["resolution"]) == ("open", None)
    same = await api.patch(path, json={"status": "open"})
    assert same.json()["version"] == reopened["version"]  # no change, no new version

    archived = await ok(await api.delete(path, "manager", headers={"If-Match": '"3"'}))
    assert archived["archived_at"] is not None
    listed = f"/api/v1/projects/{project['id']}/assumptions"
    assert (await ok(await api.get(listed)))["items"] == []
    shown = await ok(await api.get(listed, params={"include_archived": "true"}))
    assert [item["id"] for item in shown["items"]] == [assumption["id"]]
    assert_problem(await api.patch(path, json={"title": "X"}), 409, "assumption_archived")
    assert_problem(await api.delete(path), 409, "already_archived")

    trail = await audit(api, assumption["id"])
    assert [event["action"] for event in trail] == [
        "assumption.recorded",
        "assumption.updated",
        "assumption.updated",
        "assumption.archived",
    ]
    assert trail[0]["changes"]["validate_by"] == {"before": None, "after": "2027-03-01"}
    assert trail[1]["changes"]["status"] == {"before": "open", "after": "validated"}
    assert trail[0]["entity_type"] == "assumption"


async def test_lists_filter_sort_and_walk_undated_last(api: Api) -> None:
    project = await api.make_project()
    owner = await api.make_person()
    dates = ["2027-02-01", None, "2027-01-01", None, "2027-03-01"]
    made = []
    for i, day in enumerate(dates):
        body: dict[str, Any] = {"title": f"A{i}", "validate_by": day}
        if i % 2:
            body |= {"owner_id": owner["id"], "status": "invalidated", "resolution": "No"}
        made.append(await ok(await _add(api, project, **body), 201))
    path = f"/api/v1/projects/{project['id']}/assumptions"

    # By the date to validate by, undated last (then by id); descending puts them first.
    listed = (await ok(await api.get(path)))["items"]
    assert [item["title"] for item in listed[:3]] == ["A2", "A0", "A4"]
    assert {item["title"] for item in listed[3:]} == {"A1", "A3"}
    backwards = (await ok(await api.get(path, params={"sort": "-validate_by"})))["items"]
    assert [item["id"] for item in backwards] == [item["id"] for item in reversed(listed)]
    by_title = (await ok(await api.get(path, params={"sort": "title"})))["items"]
    assert [item["title"] for item in by_title] == ["A0", "A1", "A2", "A3", "A4"]
    assert_problem(await api.get(path, params={"sort": "status"}), 422, "invalid_sort")

    settled = await ok(await api.get(path, params={"status": "invalidated"}))
    assert {item["title"] for item in settled["items"]} == {"A1", "A3"}
    owned = await ok(await api.get(path, params={"owner_id": owner["id"], "status": "open"}))
    assert owned["items"] == []

    # A walk of one row a page crosses from dated to undated rows and sees each once.
    for sort in ("validate_by", "-validate_by"):
        walked, cursor = [], None
        while True:
            params: dict[str, Any] = {"limit": 1, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            page = await ok(await api.get(path, params=params))
            walked += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        expected = [item["id"] for item in (listed if sort == "validate_by" else backwards)]
        assert walked == expected

    other = await api.make_project()
    await ok(await _add(api, other), 201)
    first = await ok(await api.get(path, params={"limit": 1}))
    foreign = await api.get(
        f"/api/v1/projects/{other['id']}/assumptions",
        params={"limit": 1, "cursor": first["next_cursor"]},
    )
    assert_problem(foreign, 422, "cursor_mismatch")
    csv = await api.get(path, params={"format": "csv"})
    assert csv.status_code == 200 and csv.text.splitlines()[0].startswith("id,project_id,title")


async def test_refusals_write_nothing(api: Api) -> None:
    project = await api.make_project()
    before = await api.table_counts()
    assert_problem(await _add(api, project, owner_id=str(uuid.uuid4())), 422, "person_not_found")
    assert_problem(await _add(api, project, title=""), 422, "validation_failed")
    assert_problem(await _add(api, project, title="x" * 201), 422, "validation_failed")
    assert_problem(await _add(api, project, priority=1), 422, "validation_failed")
    assert_problem(await _add(api, project, validate_by="01/03/2027"), 422, "validation_failed")
    assert_problem(await _add(api, project, status="validated"), 422, "resolution_required")
    assert_problem(
        await _add(api, project, status="invalidated", resolution=""), 422, "resolution_required"
    )
    missing = await api.post(f"/api/v1/projects/{new_key()}/assumptions", json={"title": "A"})
    assert_problem(missing, 404, "project_not_found")
    assert await api.table_counts() == before

    closed = await api.make_project()
    assert (await api.delete(f"/api/v1/projects/{closed['id']}")).status_code == 200
    assert_problem(await _add(api, closed), 409, "project_archived")
    assert_problem(
        await api.get(f"/api/v1/assumptions/{uuid.uuid4()}"), 404, "assumption_not_found"
    )


async def test_object_rules(api: Api) -> None:
    own = await managed_project(api)
    other = await api.make_project(manager_id=api.people["other_manager"]["id"])
    assumption = await ok(await _add(api, other), 201)
    path = f"/api/v1/assumptions/{assumption['id']}"
    before = await api.table_counts()
    assert_problem(await _add(api, other, "manager"), 403, "project_forbidden")
    assert_problem(await _add(api, own, "viewer"), 403, "project_forbidden")
    assert_problem(await api.patch(path, "manager", json={"title": "X"}), 403, "project_forbidden")
    assert_problem(await api.delete(path, "viewer"), 403, "project_forbidden")
    assert await api.table_counts() == before
    for role in ("viewer", "manager", "other_manager", "pmo"):
        assert (await api.get(path, role)).status_code == 200
    assert (await _add(api, own, "manager")).status_code == 201
    assert (await api.patch(path, "other_manager", json={"title": "Y"})).status_code == 200
    assert (await api.patch(path, "pmo", json={"title": "Z"})).status_code == 200


CREATE = f"""mutation($project: ID!, $input: CreateAssumptionInput!) {{
  createAssumption(projectId: $project, input: $input) {{
    __typename
    ... on AssumptionPayload {{ assumption {{ {FIELDS} }} }}
    ... on Error {{ code }}
  }} }}"""
UPDATE = """mutation($id: ID!, $input: UpdateAssumptionInput!, $version: Int) {
  updateAssumption(id: $id, input: $input, expectedVersion: $version) {
    __typename
    ... on AssumptionPayload { assumption { version status resolution } }
    ... on VersionMismatchError { currentVersion }
    ... on Error { code }
  } }"""
ARCHIVE = """mutation($id: ID!) { archiveAssumption(id: $id) {
    __typename ... on AssumptionPayload { assumption { archivedAt } } ... on Error { code } } }"""


async def test_graphql_parity(api: Api) -> None:
    project = await managed_project(api)
    owner = await api.make_person(name="Checker")
    body = await api.gql(
        CREATE,
        {
            "project": project["key"],
            "input": {
                "title": "G",
                "ownerId": gid("Person", owner["id"]),
                "validateBy": "2027-05-01",
            },
        },
        role="manager",
    )
    made = data(body)["createAssumption"]
    assert made["__typename"] == "AssumptionPayload"
    node = made["assumption"]
    rest = await ok(await api.get(f"/api/v1/assumptions/{node['uuid']}"))
    assert (node["title"], node["status"], node["validateBy"], node["owner"]) == (
        rest["title"],
        "OPEN",
        rest["validate_by"],
        {"name": "Checker"},
    )

    refused = await api.gql(
        CREATE, {"project": project["id"], "input": {"title": "G", "status": "VALIDATED"}}
    )
    assert data(refused)["createAssumption"] == {
        "__typename": "ValidationError",
        "code": "resolution_required",
    }
    viewer = await api.gql(CREATE, {"project": project["id"], "input": {"title": "V"}}, "viewer")
    assert data(viewer)["createAssumption"]["code"] == "project_forbidden"
    missing = await api.gql(CREATE, {"project": new_key(), "input": {"title": "V"}})
    assert data(missing)["createAssumption"] == {
        "__typename": "NotFoundError",
        "code": "project_not_found",
    }

    global_id = gid("Assumption", node["uuid"])
    settled = await api.gql(
        UPDATE,
        {
            "id": global_id,
            "input": {"status": "INVALIDATED", "resolution": "Price went up"},
            "version": 1,
        },
    )
    assert data(settled)["updateAssumption"]["assumption"] == {
        "version": 2,
        "status": "INVALIDATED",
        "resolution": "Price went up",
    }
    stale = await api.gql(UPDATE, {"id": node["uuid"], "input": {"title": "S"}, "version": 1})
    assert data(stale)["updateAssumption"] == {
        "__typename": "VersionMismatchError",
        "currentVersion": 2,
        "code": "version_mismatch",
    }

    lookup = """query($id: ID!) { node(id: $id) { ... on Assumption { title project { key } } }
        assumption(id: $id) { uuid } }"""
    found = data(await api.gql(lookup, {"id": global_id}, "viewer"))
    assert found == {
        "node": {"title": "G", "project": {"key": project["key"]}},
        "assumption": {"uuid": node["uuid"]},
    }
    trail = """query($id: ID!) { auditEvents(filter: {entityId: $id}) {
        nodes { action entity { ... on Assumption { uuid } } } } }"""
    events = data(await api.gql(trail, {"id": node["uuid"]}))["auditEvents"]["nodes"]
    assert {e["action"] for e in events} == {"assumption.recorded", "assumption.updated"}
    assert all(e["entity"] == {"uuid": node["uuid"]} for e in events)

    archived = data(await api.gql(ARCHIVE, {"id": global_id}))["archiveAssumption"]
    assert archived["assumption"]["archivedAt"] is not None
    again = data(await api.gql(UPDATE, {"id": global_id, "input": {"title": "T"}}))
    assert again["updateAssumption"] == {
        "__typename": "ConflictError",
        "code": "assumption_archived",
    }


NESTED = """query($pf: ID!, $first: Int!) { projects(first: $first, filter: {portfolioId: $pf}) {
  nodes { key assumptions(first: 2) { nodes { title owner { name } }
    pageInfo { hasNextPage endCursor } } } } }"""


async def test_reads_cost_a_fixed_number_of_statements(api: Api) -> None:
    portfolio = await api.make_portfolio()
    owner = await api.make_person(name="Owner")
    token = new_key("AS")[-6:]
    projects = [
        await api.make_project(portfolio["id"], key=f"AS-{token}{i:02d}") for i in range(12)
    ]
    for i, project in enumerate(projects):
        for n in range(i % 4):
            body = {"validate_by": f"2027-01-{n + 10}", "owner_id": owner["id"]}
            await ok(await _add(api, project, title=f"{i}-{n}", **body), 201)
    first = projects[3]
    record = (await ok(await api.get(f"/api/v1/projects/{first['id']}/assumptions")))["items"][0]

    # A GET: the key look-up and the row; a list: the key, the project and the page.
    with api.count_statements() as counter:
        assert (await api.get(f"/api/v1/assumptions/{record['id']}")).status_code == 200
    assert counter.count == 2, counter.statements
    for limit in (1, 50):
        with api.count_statements() as counter:
            listed = await api.get(
                f"/api/v1/projects/{first['key']}/assumptions", params={"limit": limit}
            )
        assert listed.status_code == 200
        assert counter.count == 3, counter.statements

    # The nested connection: one statement for a whole page of projects.
    begin = 1 if api.backend == "sqlite" else 0
    counts = {}
    for size in (4, 12):
        with api.count_statements() as counter:
            body = await api.gql(NESTED, {"pf": portfolio["id"], "first": size})
        nodes = data(body)["projects"]["nodes"]
        assert len(nodes) == size
        counts[size] = counter.count
        for i, node in enumerate(nodes):
            shown = node["assumptions"]
            assert [a["title"] for a in shown["nodes"]] == [
                f"{i}-{n}" for n in range(min(2, i % 4))
            ]
            assert shown["pageInfo"]["hasNextPage"] is (i % 4 > 2)
            assert all(a["owner"] == {"name": "Owner"} for a in shown["nodes"])
    # key look-up, the projects, their assumptions, the owners
    assert counts[4] == counts[12] == begin + 4, counts

    # A nested cursor continues on the REST list, and the other way round.
    cursor = data(await api.gql(NESTED, {"pf": portfolio["id"], "first": 4}))["projects"]["nodes"][
        3
    ]["assumptions"]["pageInfo"]["endCursor"]
    rest = await ok(
        await api.get(f"/api/v1/projects/{first['id']}/assumptions", params={"cursor": cursor})
    )
    assert [item["title"] for item in rest["items"]] == ["3-2"]
