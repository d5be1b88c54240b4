"""Assignments and people's weekly load: over-allocation shows, through both doors, on
both databases."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text

from tests.conftest import Api


def _assignment(person_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "role": "Analyst",
        "allocation_percent": 50,
        "start_date": "2027-03-01",
        "end_date": "2027-03-28",
        **fields,
    }


async def _assignment_rows(api: Api) -> int:
    async with api.app.state.pmo.engine.connect() as connection:
        return int(
            (await connection.execute(text("SELECT count(*) FROM assignments"))).scalar_one()
        )


async def _events(api: Api, entity_id: str) -> list[dict[str, Any]]:
    response = await api.get("/api/v1/audit-events", params={"entity_id": entity_id})
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))  # oldest first


async def test_assignment_life_cycle(api: Api) -> None:
    person = await api.make_person()
    project = await api.make_project()
    created = await api.post(
        f"/api/v1/projects/{project['key']}/assignments", json=_assignment(person["id"])
    )
    assert created.status_code == 201, created.text
    assignment = created.json()
    assert created.headers["location"] == f"/api/v1/assignments/{assignment['id']}"
    assert assignment["project_id"] == project["id"]
    assert assignment["allocation_percent"] == 50
    path = f"/api/v1/assignments/{assignment['id']}"

    changed = await api.patch(
        path, json={"allocation_percent": 80, "role": "Lead"}, headers={"If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    stale = await api.patch(path, json={"role": "X"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    fetched = await api.get(path)
    assert fetched.json()["role"] == "Lead"
    assert fetched.headers["etag"] == '"2"'

    archived = await api.delete(path)
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    listed = await api.get(f"/api/v1/projects/{project['id']}/assignments")
    assert listed.json()["items"] == []
    assert (await api.patch(path, json={"role": "Y"})).json()["code"] == "assignment_archived"

    events = await _events(api, assignment["id"])
    assert [e["action"] for e in events] == [
        "assignment.created",
        "assignment.updated",
        "assignment.archived",
    ]
    assert events[1]["changes"]["allocation_percent"] == {"before": 50, "after": 80}


async def test_bad_assignments_are_422_and_write_nothing(api: Api) -> None:
    person = await api.make_person()
    inactive = await api.make_person(active=False)
    archived = await api.make_person()
    assert (await api.delete(f"/api/v1/people/{archived['id']}")).status_code == 200
    project = await api.make_project()
    path = f"/api/v1/projects/{project['id']}/assignments"
    before, rows = await api.table_counts(), await _assignment_rows(api)
    cases = [
        (_assignment(person["id"], allocation_percent=0), "validation_failed"),
        (_assignment(person["id"], allocation_percent=101), "validation_failed"),
        (_assignment(person["id"], allocation_percent=-5), "validation_failed"),
        (_assignment(person["id"], end_date="2027-02-28"), "dates_out_of_order"),
        (_assignment(person["id"], role=""), "validation_failed"),
        (_assignment(str(uuid.uuid4())), "person_not_found"),
        (_assignment(archived["id"]), "person_not_found"),
        (_assignment(inactive["id"]), "person_inactive"),
    ]
    for body, code in cases:
        response = await api.post(path, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code, (body, response.json())
    assert await api.table_counts() == before
    assert await _assignment_rows(api) == rows

    good = (await api.post(path, json=_assignment(person["id"]))).json()
    own = f"/api/v1/assignments/{good['id']}"
    before = await api.table_counts()
    for patch, code in (
        ({"end_date": "2027-01-01"}, "dates_out_of_order"),
        ({"start_date": "2027-12-01"}, "dates_out_of_order"),
        ({"allocation_percent": 0}, "validation_failed"),
        ({"allocation_percent": None}, "validation_failed"),
        ({"person_id": inactive["id"]}, "person_inactive"),
    ):
        response = await api.patch(own, json=patch)
        assert response.status_code == 422, (patch, response.text)
        assert response.json()["code"] == code, (patch, response.json())
    assert await api.table_counts() == before
    assert (await api.get(own)).json()["version"] == 1

    # Nothing is added to or changed on an archived project.
    assert (await api.delete(f"/api/v1/projects/{project['id']}")).status_code == 200
    before, rows = await api.table_counts(), await _assignment_rows(api)
    closed = await api.post(path, json=_assignment(person["id"]))
    assert closed.status_code == 409
    assert closed.json()["code"] == "project_archived"
    frozen = await api.patch(own, json={"role": "Other"})
    assert frozen.status_code == 409
    assert frozen.json()["code"] == "project_archived"
    assert await api.table_counts() == before
    assert await _assignment_rows(api) == rows


async def test_assignment_roles(api: Api) -> None:
    person = await api.make_person()
    own = await api.make_project(manager_id=api.people["manager"]["id"])
    other = await api.make_project()
    before = await api.table_counts()
    for role, project in (("viewer", own), ("other_manager", own), ("manager", other)):
        response = await api.post(
            f"/api/v1/projects/{project['id']}/assignments", role, json=_assignment(person["id"])
        )
        assert response.status_code == 403, (role, response.text)
        assert response.json()["code"] == "project_forbidden"
    assert await api.table_counts() == before
    mine = await api.post(
        f"/api/v1/projects/{own['id']}/assignments", "manager", json=_assignment(person["id"])
    )
    assert mine.status_code == 201, mine.text
    path = f"/api/v1/assignments/{mine.json()['id']}"
    assert (await api.patch(path, "viewer", json={"role": "X"})).status_code == 403
    assert (await api.delete(path, "other_manager")).status_code == 403
    assert (await api.patch(path, "pmo", json={"role": "X"})).status_code == 200
    assert (await api.get(path, "viewer")).status_code == 200


async def test_allocation_per_week_shows_over_allocation(api: Api) -> None:
    busy = await api.make_person()
    full = await api.make_person()
    first, second = await api.make_project(), await api.make_project()
    # 60 % from Wed 2027-03-03 (week of Mon 03-01) to Tue 2027-03-16 (week of 03-15);
    # 50 % from Mon 2027-03-15 to Sun 2027-03-28: they share the week of 03-15 only.
    a = await api.post(
        f"/api/v1/projects/{first['id']}/assignments",
        json=_assignment(
            busy["id"], allocation_percent=60, start_date="2027-03-03", end_date="2027-03-16"
        ),
    )
    b = await api.post(
        f"/api/v1/projects/{second['id']}/assignments",
        json=_assignment(
            busy["id"], allocation_percent=50, start_date="2027-03-15", end_date="2027-03-28"
        ),
    )
    assert a.status_code == b.status_code == 201
    # Exactly 100 % in the shared week: not over-allocated.
    for percent, start, end in ((40, "2027-03-01", "2027-03-10"), (60, "2027-03-08", "2027-03-21")):
        response = await api.post(
            f"/api/v1/projects/{first['id']}/assignments",
            json=_assignment(
                full["id"], allocation_percent=percent, start_date=start, end_date=end
            ),
        )
        assert response.status_code == 201

    response = await api.get(
        f"/api/v1/people/{busy['id']}/allocation", params={"from": "2027-03-02", "to": "2027-04-01"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [
        (w["week_start"], w["allocation_percent"], w["over_allocated"]) for w in body["weeks"]
    ] == [
        ("2027-03-01", 60, False),
        ("2027-03-08", 60, False),
        ("2027-03-15", 110, True),
        ("2027-03-22", 50, False),
        ("2027-03-29", 0, False),
    ]
    shared = body["weeks"][2]["assignments"]
    assert {s["id"] for s in shared} == {a.json()["id"], b.json()["id"]}
    assert {s["project_id"] for s in shared} == {first["id"], second["id"]}
    assert body["over_allocated"] is True
    assert body["peak_allocation_percent"] == 110

    flat = (
        await api.get(
            f"/api/v1/people/{full['id']}/allocation",
            params={"from": "2027-03-01", "to": "2027-03-21"},
        )
    ).json()
    assert [w["allocation_percent"] for w in flat["weeks"]] == [40, 100, 60]
    assert flat["over_allocated"] is False
    assert flat["peak_allocation_percent"] == 100

    over = await api.get("/api/v1/people", params={"over_allocated": "true", "limit": 200})
    over_ids = {p["id"] for p in over.json()["items"]}
    assert busy["id"] in over_ids
    assert full["id"] not in over_ids
    not_over = await api.get("/api/v1/people", params={"over_allocated": "false", "limit": 200})
    not_over_ids = {p["id"] for p in not_over.json()["items"]}
    assert full["id"] in not_over_ids
    assert busy["id"] not in not_over_ids

    # Archiving one of the overlapping assignments ends the over-allocation.
    assert (await api.delete(f"/api/v1/assignments/{b.json()['id']}")).status_code == 200
    over = await api.get("/api/v1/people", params={"over_allocated": "true", "limit": 200})
    assert busy["id"] not in {p["id"] for p in over.json()["items"]}
    after = (
        await api.get(
            f"/api/v1/people/{busy['id']}/allocation",
            params={"from": "2027-03-15", "to": "2027-03-15"},
        )
    ).json()
    assert after["weeks"][0]["allocation_percent"] == 60


async def _assign(api: Api, project: dict[str, Any], person: dict[str, Any], *spec: Any) -> str:
    percent, start, end = spec
    response = await api.post(
        f"/api/v1/projects/{project['id']}/assignments",
        json=_assignment(person["id"], allocation_percent=percent, start_date=start, end_date=end),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _over_allocated(api: Api, token: str, over: bool) -> set[str]:
    response = await api.get(
        "/api/v1/people", params={"q": token, "over_allocated": str(over).lower(), "limit": 200}
    )
    assert response.status_code == 200, response.text
    return {p["name"].split()[0] for p in response.json()["items"]}


async def test_allocation_is_the_peak_daily_load(api: Api) -> None:
    token = uuid.uuid4().hex[:12]
    relay = await api.make_person(name=f"Relay {token}")
    double = await api.make_person(name=f"Double {token}")
    parked = await api.make_person(name=f"Parked {token}")
    first, second, closing = (
        await api.make_project(),
        await api.make_project(),
        await api.make_project(),
    )
    # 100 % Mon 2027-03-01 to Wed 03-03, then 100 % from Thu 03-04: never two on one day.
    await _assign(api, first, relay, 100, "2027-03-01", "2027-03-03")
    await _assign(api, second, relay, 100, "2027-03-04", "2027-03-14")
    # 60 % and 50 % on the same days: 110 % each of them.
    await _assign(api, first, double, 60, "2027-03-02", "2027-03-05")
    await _assign(api, second, double, 50, "2027-03-02", "2027-03-05")
    # 60 % and 50 % on the same days, one of them on a project about to be archived.
    await _assign(api, first, parked, 60, "2027-03-01", "2027-03-10")
    await _assign(api, closing, parked, 50, "2027-03-01", "2027-03-10")

    async def weeks(person: dict[str, Any]) -> tuple[list[tuple[int, bool]], int, bool]:
        response = await api.get(
            f"/api/v1/people/{person['id']}/allocation",
            params={"from": "2027-03-01", "to": "2027-03-14"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        loads = [(w["allocation_percent"], w["over_allocated"]) for w in body["weeks"]]
        return loads, body["peak_allocation_percent"], body["over_allocated"]

    assert await weeks(relay) == ([(100, False), (100, False)], 100, False)
    assert await weeks(double) == ([(110, True), (0, False)], 110, True)
    assert await weeks(parked) == ([(110, True), (110, True)], 110, True)
    relay_week = (
        await api.get(
            f"/api/v1/people/{relay['id']}/allocation",
            params={"from": "2027-03-01", "to": "2027-03-01"},
        )
    ).json()["weeks"][0]
    assert len(relay_week["assignments"]) == 2  # both are active in the week
    assert await _over_allocated(api, token, True) == {"Double", "Parked"}
    assert await _over_allocated(api, token, False) == {"Relay"}

    # Archiving a project takes its assignments out of every load.
    assert (await api.delete(f"/api/v1/projects/{closing['id']}")).status_code == 200
    assert await weeks(parked) == ([(60, False), (60, False)], 60, False)
    assert await _over_allocated(api, token, True) == {"Double"}
    assert await _over_allocated(api, token, False) == {"Relay", "Parked"}

    query = """query($q: String) { people(first: 10, filter: {q: $q}) { nodes { name
        allocation(from: "2027-03-01", to: "2027-03-14") {
            overAllocated peakAllocationPercent weeks { allocationPercent } } } } }"""
    body = await api.gql(query, {"q": token})
    assert "errors" not in body, body
    loads = {
        n["name"].split()[0]: (
            [w["allocationPercent"] for w in n["allocation"]["weeks"]],
            n["allocation"]["peakAllocationPercent"],
            n["allocation"]["overAllocated"],
        )
        for n in body["data"]["people"]["nodes"]
    }
    assert loads == {
        "Relay": ([100, 100], 100, False),
        "Double": ([110, 0], 110, True),
        "Parked": ([60, 60], 60, False),
    }
    over = await api.gql(
        "query($q: String) { people(first: 10, filter: {q: $q, overAllocated: true}) {"
        " nodes { name } } }",
        {"q": token},
    )
    assert [n["name"] for n in over["data"]["people"]["nodes"]] == [double["name"]]


async def test_allocation_range_rules(api: Api) -> None:
    person = await api.make_person()
    path = f"/api/v1/people/{person['id']}/allocation"
    default = (await api.get(path)).json()
    monday = date.today() - timedelta(days=date.today().weekday())
    assert len(default["weeks"]) == 12
    assert default["weeks"][0]["week_start"] == monday.isoformat()
    assert default["weeks"][-1]["week_start"] == (monday + timedelta(weeks=11)).isoformat()
    assert default["peak_allocation_percent"] == 0

    longest = await api.get(path, params={"from": "2027-01-04", "to": "2028-12-31"})
    assert longest.status_code == 200, longest.text
    assert len(longest.json()["weeks"]) == 104
    too_long = await api.get(path, params={"from": "2027-01-04", "to": "2029-01-01"})
    assert too_long.status_code == 422
    assert too_long.json()["code"] == "range_too_long"
    backwards = await api.get(path, params={"from": "2027-03-01", "to": "2027-02-01"})
    assert backwards.status_code == 422
    # Within one week too (Wed then Tue).
    same_week = await api.get(path, params={"from": "2027-03-03", "to": "2027-03-02"})
    assert same_week.status_code == 422, same_week.text
    assert same_week.json()["code"] == "invalid_range"
    assert [e["loc"] for e in same_week.json()["errors"]] == [["query", "to"]]
    same_day = await api.get(path, params={"from": "2027-03-03", "to": "2027-03-03"})
    assert same_day.status_code == 200, same_day.text
    # The last week must end in the calendar (the week of 9999-12-27 runs past it).
    for params, field in (
        ({"from": "9999-12-20"}, "from"),
        ({"from": "9999-12-20", "to": "9999-12-31"}, "to"),
        ({"from": "9999-12-31", "to": "9999-12-31"}, "to"),
    ):
        late = await api.get(path, params=params)
        assert late.status_code == 422, (params, late.text)
        assert late.headers["content-type"].startswith("application/problem+json")
        assert late.json()["code"] == "date_out_of_range"
        assert [e["loc"] for e in late.json()["errors"]] == [["query", field]]
    last = await api.get(path, params={"from": "9999-12-20", "to": "9999-12-26"})
    assert last.status_code == 200, last.text
    assert [w["week_start"] for w in last.json()["weeks"]] == ["9999-12-20"]
    query = """query($id: ID!, $from: Date, $to: Date) { person(id: $id) {
        allocation(from: $from, to: $to) { peakAllocationPercent } } }"""
    for bounds, code in (
        ({"from": "9999-12-20"}, "date_out_of_range"),
        ({"from": "2027-03-03", "to": "2027-03-02"}, "invalid_range"),
    ):
        refused = await api.gql(query, {"id": person["id"], **bounds})
        assert refused["errors"][0]["extensions"]["code"] == code, refused
    assert (await api.get(path, params={"from": "nope"})).status_code == 422
    assert (await api.get(path, params={"since": "2027-01-01"})).status_code == 422
    missing = await api.get(f"/api/v1/people/{uuid.uuid4()}/allocation")
    assert missing.status_code == 404
    assert missing.json()["code"] == "person_not_found"
    assert (await api.get(path, "viewer")).status_code == 200


async def test_assignment_list_filters_and_sorts(api: Api) -> None:
    one, two = await api.make_person(), await api.make_person()
    project = await api.make_project()
    path = f"/api/v1/projects/{project['id']}/assignments"
    specs = [
        (one, 30, "2027-05-01", "2027-05-31"),
        (two, 20, "2027-04-01", "2027-06-30"),
        (one, 10, "2027-07-01", "2027-07-31"),
    ]
    for person, percent, start, end in specs:
        response = await api.post(
            path,
            json=_assignment(
                person["id"], allocation_percent=percent, start_date=start, end_date=end
            ),
        )
        assert response.status_code == 201
    listed = (await api.get(path)).json()["items"]
    assert [a["start_date"] for a in listed] == ["2027-04-01", "2027-05-01", "2027-07-01"]
    by_share = (await api.get(path, params={"sort": "-allocation_percent"})).json()["items"]
    assert [a["allocation_percent"] for a in by_share] == [30, 20, 10]
    mine = (await api.get(path, params={"person_id": one["id"]})).json()["items"]
    assert sorted(a["allocation_percent"] for a in mine) == [10, 30]
    on_day = (await api.get(path, params={"active_on": "2027-05-15"})).json()["items"]
    assert sorted(a["allocation_percent"] for a in on_day) == [20, 30]
    page = (await api.get(path, params={"limit": 2})).json()
    rest = (await api.get(path, params={"limit": 2, "cursor": page["next_cursor"]})).json()
    assert len(page["items"]) == 2
    assert [a["start_date"] for a in rest["items"]] == ["2027-07-01"]
    assert rest["next_cursor"] is None


# --- GraphQL ---------------------------------------------------------------------------

ASSIGNMENT_FIELDS = """
    __typename
    ... on AssignmentPayload { assignment { id uuid role allocationPercent startDate endDate
                                            version archivedAt person { uuid } project { key } } }
    ... on Error { code message }
    ... on ValidationError { errors { loc msg } }
"""
CREATE = (
    "mutation($project: ID!, $input: CreateAssignmentInput!) {"
    " createAssignment(projectId: $project, input: $input) {" + ASSIGNMENT_FIELDS + "} }"
)
UPDATE = (
    "mutation($id: ID!, $input: UpdateAssignmentInput!, $v: Int) {"
    " updateAssignment(id: $id, input: $input, expectedVersion: $v) {"
    + ASSIGNMENT_FIELDS
    + "... on VersionMismatchError { currentVersion } } }"
)
ARCHIVE = "mutation($id: ID!) { archiveAssignment(id: $id) {" + ASSIGNMENT_FIELDS + "} }"


def _gql_assignment(person_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "personId": person_id,
        "role": "Developer",
        "allocationPercent": 60,
        "startDate": "2027-03-01",
        "endDate": "2027-03-14",
        **fields,
    }


async def test_assignment_life_cycle_over_graphql(api: Api) -> None:
    person = await api.make_person()
    project = await api.make_project()
    person_gid = (
        await api.gql("query($id: ID!) { person(id: $id) { id } }", {"id": person["id"]})
    )["data"]["person"]["id"]
    created = await api.gql(
        CREATE, {"project": project["key"], "input": _gql_assignment(person_gid)}
    )
    payload = created["data"]["createAssignment"]
    assert payload["__typename"] == "AssignmentPayload", payload
    assignment = payload["assignment"]
    assert assignment["person"] == {"uuid": person["id"]}
    assert assignment["project"] == {"key": project["key"]}

    updated = await api.gql(
        UPDATE, {"id": assignment["id"], "input": {"allocationPercent": 70}, "v": 1}
    )
    assert updated["data"]["updateAssignment"]["assignment"]["allocationPercent"] == 70
    stale = await api.gql(UPDATE, {"id": assignment["id"], "input": {"role": "X"}, "v": 1})
    assert stale["data"]["updateAssignment"]["__typename"] == "VersionMismatchError"
    assert stale["data"]["updateAssignment"]["currentVersion"] == 2
    backwards = await api.gql(UPDATE, {"id": assignment["id"], "input": {"endDate": "2027-02-01"}})
    assert backwards["data"]["updateAssignment"]["code"] == "dates_out_of_order"

    node = await api.gql(
        "query($id: ID!) { node(id: $id) { __typename ... on Assignment { role } } }",
        {"id": assignment["id"]},
    )
    assert node["data"]["node"] == {"__typename": "Assignment", "role": "Developer"}
    archived = await api.gql(ARCHIVE, {"id": assignment["id"]})
    assert archived["data"]["archiveAssignment"]["assignment"]["archivedAt"] is not None
    events = [e["action"] for e in await _events(api, assignment["uuid"])]
    assert events == ["assignment.created", "assignment.updated", "assignment.archived"]


async def test_graphql_assignment_refusals_are_typed_and_write_nothing(api: Api) -> None:
    person = await api.make_person()
    project = await api.make_project()
    before, rows = await api.table_counts(), await _assignment_rows(api)
    for percent in (0, 101, -5):
        body = await api.gql(
            CREATE,
            {
                "project": project["id"],
                "input": _gql_assignment(person["id"], allocationPercent=percent),
            },
        )
        result = body["data"]["createAssignment"]
        assert result["__typename"] == "ValidationError", result
        assert result["errors"][0]["loc"] == ["input", "allocationPercent"]
    backwards = await api.gql(
        CREATE,
        {"project": project["id"], "input": _gql_assignment(person["id"], endDate="2027-02-01")},
    )
    refused = backwards["data"]["createAssignment"]
    assert (refused["__typename"], refused["code"]) == ("ValidationError", "dates_out_of_order")
    viewer = await api.gql(
        CREATE, {"project": project["id"], "input": _gql_assignment(person["id"])}, role="viewer"
    )
    assert viewer["data"]["createAssignment"]["__typename"] == "ForbiddenError"
    manager = await api.gql(
        CREATE, {"project": project["id"], "input": _gql_assignment(person["id"])}, role="manager"
    )
    assert manager["data"]["createAssignment"]["code"] == "project_forbidden"
    assert await api.table_counts() == before
    assert await _assignment_rows(api) == rows


ALLOCATION_PAGE = """query($q: String, $over: Boolean) {
    people(first: 50, filter: {q: $q, overAllocated: $over}) { nodes { name
        allocation(from: "2027-03-01", to: "2027-03-21") {
            overAllocated peakAllocationPercent
            weeks { weekStart allocationPercent overAllocated
                    assignments { assignmentId role allocationPercent project { key } } } } } } }"""


async def test_people_allocation_over_graphql_is_batched(api: Api) -> None:
    token = uuid.uuid4().hex[:12]
    busy = await api.make_person(name=f"Busy {token}")
    full = await api.make_person(name=f"Full {token}")
    idle = await api.make_person(name=f"Idle {token}")
    project = await api.make_project()
    for person, percent, start, end in (
        (busy, 60, "2027-03-01", "2027-03-14"),
        (busy, 50, "2027-03-08", "2027-03-21"),
        (full, 100, "2027-03-01", "2027-03-21"),
    ):
        response = await api.post(
            f"/api/v1/projects/{project['id']}/assignments",
            json=_assignment(
                person["id"], allocation_percent=percent, start_date=start, end_date=end
            ),
        )
        assert response.status_code == 201

    begin = 1 if api.backend == "sqlite" else 0
    with api.count_statements() as counter:
        body = await api.gql(ALLOCATION_PAGE, {"q": token})
    assert "errors" not in body, body
    # authenticate + the people + one statement of assignments + one of projects
    assert counter.count == begin + 4, counter.statements
    people = {n["name"].split()[0]: n["allocation"] for n in body["data"]["people"]["nodes"]}
    assert [w["allocationPercent"] for w in people["Busy"]["weeks"]] == [60, 110, 50]
    assert [w["overAllocated"] for w in people["Busy"]["weeks"]] == [False, True, False]
    assert people["Busy"]["overAllocated"] is True
    assert people["Busy"]["peakAllocationPercent"] == 110
    assert {a["allocationPercent"] for a in people["Busy"]["weeks"][1]["assignments"]} == {60, 50}
    assert people["Busy"]["weeks"][1]["assignments"][0]["project"] == {"key": project["key"]}
    assert people["Full"]["peakAllocationPercent"] == 100
    assert people["Full"]["overAllocated"] is False
    assert people["Idle"]["weeks"][0] == {
        "weekStart": "2027-03-01",
        "allocationPercent": 0,
        "overAllocated": False,
        "assignments": [],
    }

    over = await api.gql(ALLOCATION_PAGE, {"q": token, "over": True})
    assert [n["name"] for n in over["data"]["people"]["nodes"]] == [busy["name"]]
    calm = await api.gql(ALLOCATION_PAGE, {"q": token, "over": False})
    assert sorted(n["name"] for n in calm["data"]["people"]["nodes"]) == sorted(
        [full["name"], idle["name"]]
    )
    too_long = await api.gql(
        """query($id: ID!) { person(id: $id) {
            allocation(from: "2027-01-01", to: "2030-01-01") { peakAllocationPercent } } }""",
        {"id": idle["id"]},
    )
    assert too_long["errors"][0]["extensions"]["code"] == "range_too_long"
