"""The schedule: milestones (overdue derived), deliverables (acceptance recorded by the
service) and baselines (immutable captures of the plan, compared), through both doors,
on both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text

from tests.conftest import Api, new_key

SCHEDULE_TABLES = ("milestones", "deliverables", "baselines")


def today() -> date:
    return datetime.now(UTC).date()


def day(offset: int) -> str:
    return (today() + timedelta(days=offset)).isoformat()


async def counts(api: Api) -> dict[str, int]:
    """Every table a schedule write can touch: proof that nothing was written."""
    found = await api.table_counts()
    async with api.app.state.pmo.engine.connect() as connection:
        for table in SCHEDULE_TABLES:
            result = await connection.execute(text(f"SELECT count(*) FROM {table}"))
            found[table] = int(result.scalar_one())
    return found


async def events(api: Api, entity_id: str) -> list[dict[str, Any]]:
    response = await api.get(
        "/api/v1/audit-events", params={"entity_id": entity_id, "sort": "occurred_at"}
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def make_milestone(api: Api, project_id: str, role: str = "admin", **fields: Any) -> Any:
    body = {"name": "Milestone", "due_date": day(30), **fields}
    response = await api.post(f"/api/v1/projects/{project_id}/milestones", role, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def assert_problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code, response.text


# --- milestones --------------------------------------------------------------------------


async def test_milestone_life_cycle_over_rest(api: Api) -> None:
    project = await api.make_project()
    created = await api.post(
        f"/api/v1/projects/{project['key']}/milestones",
        json={"name": "Design signed off", "due_date": day(20), "description": "All of it"},
    )
    assert created.status_code == 201, created.text
    milestone = created.json()
    assert created.headers["location"] == f"/api/v1/milestones/{milestone['id']}"
    assert created.headers["etag"] == '"1"'
    assert milestone["status"] == "planned"
    assert milestone["done_date"] is None
    assert milestone["overdue"] is False
    assert milestone["project_id"] == project["id"]

    path = f"/api/v1/milestones/{milestone['id']}"
    got = await api.get(path)
    assert got.status_code == 200 and got.json() == milestone
    # overdue changes with the date, not the version: never a 304, the ETag stays for If-Match
    fresh = await api.get(path, headers={"If-None-Match": '"1"'})
    assert fresh.status_code == 200 and fresh.json() == milestone
    assert fresh.headers["etag"] == '"1"'

    stale = await api.patch(path, json={"name": "x"}, headers={"If-Match": '"7"'})
    assert_problem(stale, 412, "version_mismatch")

    done = await api.patch(path, json={"status": "done"}, headers={"If-Match": '"1"'})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    assert done.json()["done_date"] in (today().isoformat(), day(1))
    assert done.json()["version"] == 2

    reopened = await api.patch(path, json={"status": "in_progress"})
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["done_date"] is None  # no longer done

    archived = await api.delete(path, headers={"If-Match": '"3"'})
    assert archived.status_code == 200, archived.text
    assert archived.json()["archived_at"] is not None
    assert_problem(await api.delete(path), 409, "already_archived")

    listed = await api.get(f"/api/v1/projects/{project['id']}/milestones")
    assert listed.json()["items"] == []
    listed = await api.get(
        f"/api/v1/projects/{project['id']}/milestones", params={"include_archived": "true"}
    )
    assert [m["id"] for m in listed.json()["items"]] == [milestone["id"]]

    actions = [e["action"] for e in await events(api, milestone["id"])]
    assert actions == [
        "milestone.created",
        "milestone.updated",
        "milestone.updated",
        "milestone.archived",
    ]
    updated = (await events(api, milestone["id"]))[1]["changes"]
    assert updated["status"] == {"before": "planned", "after": "done"}
    assert updated["done_date"]["before"] is None


async def test_overdue_is_derived_and_filtered_in_sql(api: Api) -> None:
    project = await api.make_project()
    late = await make_milestone(api, project["id"], name="Late", due_date=day(-3))
    late_started = await make_milestone(
        api, project["id"], name="Late, started", due_date=day(-2), status="in_progress"
    )
    done = await make_milestone(api, project["id"], name="Done", due_date=day(-3), status="done")
    cancelled = await make_milestone(
        api, project["id"], name="Cancelled", due_date=day(-3), status="cancelled"
    )
    future = await make_milestone(api, project["id"], name="Future", due_date=day(10))
    archived = await make_milestone(api, project["id"], name="Archived", due_date=day(-5))
    assert (await api.delete(f"/api/v1/milestones/{archived['id']}")).status_code == 200

    assert late["overdue"] is True and late_started["overdue"] is True
    assert done["overdue"] is False and cancelled["overdue"] is False
    assert future["overdue"] is False
    assert (await api.get(f"/api/v1/milestones/{archived['id']}")).json()["overdue"] is False

    path = f"/api/v1/projects/{project['id']}/milestones"
    overdue = (await api.get(path, params={"overdue": "true"})).json()["items"]
    assert [m["name"] for m in overdue] == ["Late", "Late, started"]
    assert all(m["overdue"] for m in overdue)
    others = (await api.get(path, params={"overdue": "false"})).json()["items"]
    assert {m["name"] for m in others} == {"Done", "Cancelled", "Future"}
    with_archived = await api.get(path, params={"overdue": "false", "include_archived": "true"})
    assert "Archived" in {m["name"] for m in with_archived.json()["items"]}

    # Marking it done ends the overdue state.
    now_done = await api.patch(f"/api/v1/milestones/{late['id']}", json={"status": "done"})
    assert now_done.json()["overdue"] is False
    overdue = (await api.get(path, params={"overdue": "true"})).json()["items"]
    assert [m["name"] for m in overdue] == ["Late, started"]


async def test_milestone_list_filters_sort_and_pages(api: Api) -> None:
    project = await api.make_project()
    for i in range(5):
        await make_milestone(api, project["id"], name=f"M{i}", due_date=day(10 + i))
    path = f"/api/v1/projects/{project['id']}/milestones"
    first = (await api.get(path, params={"limit": 2})).json()
    assert [m["name"] for m in first["items"]] == ["M0", "M1"]
    second = (await api.get(path, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [m["name"] for m in second["items"]] == ["M2", "M3"]
    desc = (await api.get(path, params={"sort": "-due_date", "limit": 1})).json()
    assert desc["items"][0]["name"] == "M4"
    ranged = (await api.get(path, params={"due_from": day(11), "due_to": day(12)})).json()
    assert [m["name"] for m in ranged["items"]] == ["M1", "M2"]
    assert_problem(await api.get(path, params={"colour": "red"}), 422, "unknown_parameter")
    assert_problem(await api.get(path, params={"sort": "nope"}), 422, "invalid_sort")


async def test_done_date_rules_refuse_and_write_nothing(api: Api) -> None:
    project = await api.make_project()
    milestone = await make_milestone(api, project["id"])
    before = await counts(api)
    path = f"/api/v1/projects/{project['id']}/milestones"

    not_done = await api.post(path, json={"name": "x", "due_date": day(3), "done_date": day(-1)})
    assert_problem(not_done, 422, "done_date_not_done")
    future = await api.post(
        path, json={"name": "x", "due_date": day(3), "status": "done", "done_date": day(5)}
    )
    assert_problem(future, 422, "done_date_in_future")
    patch = await api.patch(f"/api/v1/milestones/{milestone['id']}", json={"done_date": day(-1)})
    assert_problem(patch, 422, "done_date_not_done")
    assert_problem(
        await api.patch(f"/api/v1/milestones/{milestone['id']}", json={"status": None}),
        422,
        "validation_failed",
    )
    assert_problem(await api.post(path, json={"name": "x"}), 422, "validation_failed")
    assert await counts(api) == before
    assert (await api.get(f"/api/v1/milestones/{milestone['id']}")).json()["version"] == 1

    explicit = await make_milestone(
        api, project["id"], status="done", done_date=day(-2), due_date=day(-1)
    )
    assert explicit["done_date"] == day(-2)


async def test_object_rules_and_closed_projects_write_nothing(api: Api) -> None:
    manager = api.people["manager"]
    own = await api.make_project(manager_id=manager["id"])
    other = await api.make_project(manager_id=api.people["other_manager"]["id"])
    closed = await api.make_project()
    existing = await make_milestone(api, other["id"])
    assert (await api.delete(f"/api/v1/projects/{closed['id']}")).status_code == 200
    before = await counts(api)

    for kind in ("milestones", "deliverables", "baselines"):
        body = {"name": "M"} if kind == "baselines" else {"name": "M", "due_date": day(5)}
        assert_problem(
            await api.post(f"/api/v1/projects/{own['id']}/{kind}", "viewer", json=body),
            403,
            "project_forbidden",
        )
        assert_problem(
            await api.post(f"/api/v1/projects/{other['id']}/{kind}", "manager", json=body),
            403,
            "project_forbidden",
        )
        assert_problem(
            await api.post(f"/api/v1/projects/{closed['id']}/{kind}", json=body),
            409,
            "project_archived",
        )
        assert_problem(
            await api.post(f"/api/v1/projects/{uuid.uuid4()}/{kind}", json=body),
            404,
            "project_not_found",
        )
        assert_problem(
            await api.post(f"/api/v1/projects/{new_key('NO')}/{kind}", json=body),
            404,
            "project_not_found",
        )
        listed = await api.get(f"/api/v1/projects/{own['id']}/{kind}", "viewer")
        assert listed.status_code == 200, listed.text
    path = f"/api/v1/milestones/{existing['id']}"
    assert_problem(await api.patch(path, "manager", json={"name": "x"}), 403, "project_forbidden")
    assert_problem(await api.delete(path, "viewer"), 403, "project_forbidden")
    assert_problem(await api.get(f"/api/v1/milestones/{uuid.uuid4()}"), 404, "milestone_not_found")
    assert await counts(api) == before

    # The manager writes on the project they manage; the pmo on any.
    assert (await make_milestone(api, own["id"], "manager"))["project_id"] == own["id"]
    assert (await make_milestone(api, other["id"], "pmo"))["project_id"] == other["id"]
    ok = await api.patch(path, "other_manager", json={"name": "Renamed"})
    assert ok.status_code == 200, ok.text


async def test_idempotent_post_replays_the_first_response(api: Api) -> None:
    project = await api.make_project()
    path = f"/api/v1/projects/{project['id']}/milestones"
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"name": "Once", "due_date": day(9)}
    first = await api.post(path, json=body, headers=headers)
    before = await counts(api)
    again = await api.post(path, json=body, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert await counts(api) == before
    other = await api.post(path, json={**body, "name": "Twice"}, headers=headers)
    assert other.status_code == 422, other.text


# --- deliverables ------------------------------------------------------------------------


async def test_deliverable_acceptance_is_recorded_by_the_service(api: Api) -> None:
    manager = api.people["manager"]
    project = await api.make_project(manager_id=manager["id"])
    path = f"/api/v1/projects/{project['id']}/deliverables"
    before = await counts(api)
    forged = await api.post(
        path,
        "manager",
        json={"name": "Plan", "due_date": day(5), "accepted_by": "someone else"},
    )
    assert_problem(forged, 422, "validation_failed")
    assert await counts(api) == before

    created = await api.post(
        path, "manager", json={"name": "Plan", "due_date": day(5), "phase": "Design"}
    )
    assert created.status_code == 201, created.text
    deliverable = created.json()
    assert deliverable["status"] == "planned"
    assert deliverable["accepted_by"] is None and deliverable["accepted_at"] is None

    own = f"/api/v1/deliverables/{deliverable['id']}"
    submitted = await api.patch(own, "manager", json={"status": "submitted"})
    assert submitted.json()["accepted_at"] is None
    accepted = await api.patch(own, "manager", json={"status": "accepted"})
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["accepted_by"] == "test manager"
    assert body["accepted_by_person_id"] == manager["id"]
    assert body["accepted_at"] is not None
    assert_problem(
        await api.patch(own, "manager", json={"accepted_at": "2020-01-01T00:00:00Z"}),
        422,
        "validation_failed",
    )

    rejected = await api.patch(own, "pmo", json={"status": "rejected"})
    assert rejected.json()["accepted_by"] is None
    assert rejected.json()["accepted_by_person_id"] is None
    by_pmo = await api.patch(own, "pmo", json={"status": "accepted"})
    assert by_pmo.json()["accepted_by"] == "test pmo"
    assert by_pmo.json()["accepted_by_person_id"] is None

    listed = await api.get(path, params={"status": "accepted", "phase": "Design"})
    assert [d["id"] for d in listed.json()["items"]] == [deliverable["id"]]
    assert (await api.get(path, params={"status": "planned"})).json()["items"] == []

    archived = await api.delete(own, "manager")
    assert archived.status_code == 200, archived.text
    actions = [e["action"] for e in await events(api, deliverable["id"])]
    assert actions == ["deliverable.created"] + ["deliverable.updated"] * 4 + [
        "deliverable.archived"
    ]
    accepted_event = (await events(api, deliverable["id"]))[2]["changes"]
    assert accepted_event["accepted_by"] == {"before": None, "after": "test manager"}


# --- baselines ---------------------------------------------------------------------------


async def test_baselines_are_immutable_and_compared(api: Api) -> None:
    project = await api.make_project(
        planned_start="2027-01-01", planned_end="2027-06-30", planned_budget="100000.00"
    )
    assert project["baseline_id"] is None
    kickoff = await make_milestone(api, project["id"], name="Kick-off", due_date="2027-01-15")
    design = await make_milestone(api, project["id"], name="Design", due_date="2027-03-01")
    dropped = await make_milestone(api, project["id"], name="Dropped", due_date="2027-04-01")
    gone = await make_milestone(api, project["id"], name="Gone", due_date="2027-05-01")
    assert (await api.delete(f"/api/v1/milestones/{gone['id']}")).status_code == 200

    captured = await api.post(
        f"/api/v1/projects/{project['id']}/baselines",
        json={"name": "Approved plan", "description": "As signed"},
    )
    assert captured.status_code == 201, captured.text
    first = captured.json()
    assert captured.headers["location"] == f"/api/v1/baselines/{first['id']}"
    assert first["planned_start"] == "2027-01-01"
    assert first["planned_end"] == "2027-06-30"
    assert first["planned_budget"] == 100000.0
    assert first["captured_by"] == "bootstrap admin"
    assert [m["name"] for m in first["milestones"]] == ["Kick-off", "Design", "Dropped"]
    assert first["milestones"][0] == {
        "id": kickoff["id"],
        "name": "Kick-off",
        "due_date": "2027-01-15",
        "status": "planned",
    }
    got_project = (await api.get(f"/api/v1/projects/{project['id']}")).json()
    assert got_project["baseline_id"] == first["id"]
    project_events = await events(api, project["id"])
    assert project_events[-1]["action"] == "project.updated"
    assert project_events[-1]["changes"] == {"baseline_id": {"before": None, "after": first["id"]}}
    assert [e["action"] for e in await events(api, first["id"])] == ["baseline.captured"]

    # Immutable: no PATCH, no DELETE, and nothing written by trying.
    own = f"/api/v1/baselines/{first['id']}"
    before = await counts(api)
    patched = await api.patch(own, json={"name": "Changed"})
    assert patched.status_code == 405 and patched.headers["allow"] == "GET"
    assert (await api.delete(own)).status_code == 405
    assert await counts(api) == before
    assert (await api.get(own)).json() == first

    # The plan moves on: later end, bigger budget, a moved, a new and a removed milestone.
    changed = await api.patch(
        f"/api/v1/projects/{project['id']}",
        json={"planned_end": "2027-07-30", "planned_budget": "112500.50"},
    )
    assert changed.status_code == 200, changed.text
    moved = await api.patch(f"/api/v1/milestones/{design['id']}", json={"due_date": "2027-03-11"})
    assert moved.status_code == 200
    assert (await api.delete(f"/api/v1/milestones/{dropped['id']}")).status_code == 200
    added = await make_milestone(api, project["id"], name="Pilot", due_date="2027-06-01")

    compared = await api.get(f"{own}/compare")
    assert compared.status_code == 200, compared.text
    diff = compared.json()
    assert diff["from"]["kind"] == "baseline" and diff["from"]["baseline_id"] == first["id"]
    assert diff["to"]["kind"] == "current" and diff["to"]["baseline_id"] is None
    assert diff["changes"] == {
        "planned_start": {"from": "2027-01-01", "to": "2027-01-01", "days": 0},
        "planned_end": {"from": "2027-06-30", "to": "2027-07-30", "days": 30},
        "planned_budget": {"from": 100000.0, "to": 112500.5, "delta": 12500.5},
    }
    assert [m["id"] for m in diff["milestones"]["added"]] == [added["id"]]
    assert [m["id"] for m in diff["milestones"]["removed"]] == [dropped["id"]]
    assert diff["milestones"]["moved"] == [
        {"id": design["id"], "name": "Design", "from": "2027-03-01", "to": "2027-03-11", "days": 10}
    ]

    # A second capture becomes the current baseline; two baselines compare the same way.
    second = (
        await api.post(f"/api/v1/projects/{project['id']}/baselines", json={"name": "Re-plan"})
    ).json()
    assert (await api.get(f"/api/v1/projects/{project['id']}")).json()["baseline_id"] == second[
        "id"
    ]
    both = (await api.get(f"{own}/compare", params={"with": second["id"]})).json()
    assert both["to"]["baseline_id"] == second["id"]
    assert both["changes"] == diff["changes"]
    assert both["milestones"] == diff["milestones"]
    back = (
        await api.get(f"/api/v1/baselines/{second['id']}/compare", params={"with": first["id"]})
    ).json()
    assert back["changes"]["planned_budget"]["delta"] == -12500.5
    assert back["milestones"]["moved"][0]["days"] == -10

    listed = (await api.get(f"/api/v1/projects/{project['id']}/baselines")).json()
    assert [b["id"] for b in listed["items"]] == [second["id"], first["id"]]

    # Across projects, or with something that is no baseline: refused.
    stranger = await api.make_project()
    theirs = (
        await api.post(f"/api/v1/projects/{stranger['id']}/baselines", json={"name": "Theirs"})
    ).json()
    assert_problem(
        await api.get(f"{own}/compare", params={"with": theirs["id"]}),
        422,
        "baseline_of_other_project",
    )
    assert_problem(
        await api.get(f"{own}/compare", params={"with": str(uuid.uuid4())}),
        422,
        "baseline_not_found",
    )
    assert_problem(
        await api.get(f"{own}/compare", params={"with": "nope"}), 422, "validation_failed"
    )
    assert_problem(
        await api.get(f"/api/v1/baselines/{uuid.uuid4()}/compare"), 404, "baseline_not_found"
    )
    # Every role reads comparisons.
    assert (await api.get(f"{own}/compare", "viewer")).status_code == 200


# --- GraphQL -----------------------------------------------------------------------------

MILESTONE_FIELDS = "id uuid name dueDate doneDate status overdue version project { key }"

CREATE_MILESTONE = """mutation($project: ID!, $input: CreateMilestoneInput!) {
  createMilestone(projectId: $project, input: $input) {
    __typename
    ... on MilestonePayload { milestone { MILESTONE_FIELDS } }
    ... on Error { code message }
  } }""".replace("MILESTONE_FIELDS", MILESTONE_FIELDS)

UPDATE_MILESTONE = """mutation($id: ID!, $input: UpdateMilestoneInput!, $v: Int) {
  updateMilestone(id: $id, input: $input, expectedVersion: $v) {
    __typename
    ... on MilestonePayload { milestone { MILESTONE_FIELDS } }
    ... on VersionMismatchError { currentVersion }
    ... on Error { code message }
  } }""".replace("MILESTONE_FIELDS", MILESTONE_FIELDS)

ARCHIVE_MILESTONE = """mutation($id: ID!) {
  archiveMilestone(id: $id) {
    __typename ... on MilestonePayload { milestone { archivedAt } } ... on Error { code } } }"""


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


async def test_milestone_life_cycle_over_graphql(api: Api) -> None:
    project = await api.make_project(manager_id=api.people["manager"]["id"])
    created = data(
        await api.gql(
            CREATE_MILESTONE,
            {"project": project["key"], "input": {"name": "Go live", "dueDate": day(-2)}},
            role="manager",
        )
    )["createMilestone"]
    assert created["__typename"] == "MilestonePayload", created
    milestone = created["milestone"]
    assert milestone["overdue"] is True and milestone["project"] == {"key": project["key"]}

    before = await counts(api)
    forbidden = data(
        await api.gql(
            CREATE_MILESTONE,
            {"project": project["id"], "input": {"name": "x", "dueDate": day(1)}},
            role="viewer",
        )
    )["createMilestone"]
    assert forbidden["__typename"] == "ForbiddenError" and forbidden["code"] == "project_forbidden"
    invalid = data(
        await api.gql(
            CREATE_MILESTONE,
            {
                "project": project["id"],
                "input": {"name": "x", "dueDate": day(1), "doneDate": day(-1)},
            },
        )
    )["createMilestone"]
    assert invalid["__typename"] == "ValidationError" and invalid["code"] == "done_date_not_done"
    missing = data(
        await api.gql(
            CREATE_MILESTONE,
            {"project": str(uuid.uuid4()), "input": {"name": "x", "dueDate": day(1)}},
        )
    )["createMilestone"]
    assert missing["__typename"] == "NotFoundError"
    stale = data(
        await api.gql(UPDATE_MILESTONE, {"id": milestone["id"], "input": {"name": "y"}, "v": 9})
    )["updateMilestone"]
    assert stale == {
        "__typename": "VersionMismatchError",
        "currentVersion": 1,
        "code": "version_mismatch",
        "message": stale["message"],
    }
    assert await counts(api) == before

    done = data(
        await api.gql(
            UPDATE_MILESTONE,
            {"id": milestone["id"], "input": {"status": "DONE"}, "v": 1},
            role="manager",
        )
    )["updateMilestone"]
    assert done["__typename"] == "MilestonePayload", done
    assert done["milestone"]["overdue"] is False
    assert done["milestone"]["doneDate"] in (today().isoformat(), day(1))

    node = data(
        await api.gql(
            "query($id: ID!) { node(id: $id) { __typename ... on Milestone { name version } } }",
            {"id": milestone["id"]},
        )
    )["node"]
    assert node == {"__typename": "Milestone", "name": "Go live", "version": 2}
    archived = data(await api.gql(ARCHIVE_MILESTONE, {"id": milestone["id"]}))["archiveMilestone"]
    assert archived["milestone"]["archivedAt"] is not None
    actions = [e["action"] for e in await events(api, milestone["uuid"])]
    assert actions == ["milestone.created", "milestone.updated", "milestone.archived"]


DELIVERABLE_MUTATIONS = """mutation($project: ID!) {
  createDeliverable(projectId: $project, input: {name: "Report", dueDate: "2027-02-01"}) {
    __typename ... on DeliverablePayload { deliverable { id status acceptedBy } }
    ... on Error { code } } }"""

ACCEPT = """mutation($id: ID!) {
  updateDeliverable(id: $id, input: {status: ACCEPTED}, expectedVersion: 1) {
    __typename ... on DeliverablePayload { deliverable {
      status acceptedBy acceptedAt acceptedByPerson { name } } }
    ... on Error { code } } }"""


async def test_deliverables_and_baselines_over_graphql(api: Api) -> None:
    manager = api.people["manager"]
    project = await api.make_project(
        manager_id=manager["id"], planned_end="2027-12-31", planned_budget=500
    )
    created = data(await api.gql(DELIVERABLE_MUTATIONS, {"project": project["id"]}, "manager"))[
        "createDeliverable"
    ]
    deliverable = created["deliverable"]
    assert deliverable["status"] == "PLANNED" and deliverable["acceptedBy"] is None
    accepted = data(await api.gql(ACCEPT, {"id": deliverable["id"]}, "manager"))[
        "updateDeliverable"
    ]["deliverable"]
    assert accepted["acceptedBy"] == "test manager"
    assert accepted["acceptedByPerson"] == {"name": manager["name"]}
    assert accepted["acceptedAt"].endswith("Z")
    archived = data(
        await api.gql(
            "mutation($id: ID!) { archiveDeliverable(id: $id) { __typename } }",
            {"id": deliverable["id"]},
            "viewer",
        )
    )
    assert archived["archiveDeliverable"]["__typename"] == "ForbiddenError"

    await make_milestone(api, project["id"], name="Only", due_date="2027-05-01")
    capture = """mutation($project: ID!, $name: String!) {
      captureBaseline(projectId: $project, input: {name: $name}) {
        __typename ... on BaselinePayload { baseline { id uuid name plannedBudget
          milestones { name dueDate status } } } ... on Error { code } } }"""
    first = data(await api.gql(capture, {"project": project["key"], "name": "B1"}, "manager"))[
        "captureBaseline"
    ]["baseline"]
    assert first["plannedBudget"] == 500.0
    assert first["milestones"] == [{"name": "Only", "dueDate": "2027-05-01", "status": "PLANNED"}]
    refused = data(await api.gql(capture, {"project": project["key"], "name": "B"}, "viewer"))
    assert refused["captureBaseline"] == {
        "__typename": "ForbiddenError",
        "code": "project_forbidden",
    }
    await api.patch(f"/api/v1/projects/{project['id']}", json={"planned_budget": 450})
    second = data(await api.gql(capture, {"project": project["id"], "name": "B2"}))[
        "captureBaseline"
    ]["baseline"]

    query = """query($key: String!, $id: ID!, $with: ID) {
      project(idOrKey: $key) {
        baseline { name }
        baselines(first: 1) { nodes { name } pageInfo { hasNextPage endCursor } }
        deliverables { nodes { name status } }
      }
      baseline(id: $id) {
        current: compare { to { kind plannedBudget } changes { plannedBudget { from to delta } } }
        other: compare(with: $with) { to { baselineId name }
          changes { plannedEnd { from to days } } milestones { moved { name } } }
      } }"""
    variables = {"key": project["key"], "id": first["id"], "with": second["id"]}
    result = data(await api.gql(query, variables, "viewer"))
    assert result["project"]["baseline"] == {"name": "B2"}
    assert result["project"]["baselines"]["nodes"] == [{"name": "B2"}]
    assert result["project"]["baselines"]["pageInfo"]["hasNextPage"] is True
    assert result["project"]["deliverables"]["nodes"] == [{"name": "Report", "status": "ACCEPTED"}]
    current = result["baseline"]["current"]
    assert current["to"] == {"kind": "current", "plannedBudget": 450.0}
    assert current["changes"]["plannedBudget"] == {"from": 500.0, "to": 450.0, "delta": -50.0}
    other = result["baseline"]["other"]
    assert other["to"] == {"baselineId": second["id"], "name": "B2"}
    assert other["changes"]["plannedEnd"] == {"from": "2027-12-31", "to": "2027-12-31", "days": 0}

    stranger = await api.make_project()
    theirs = data(await api.gql(capture, {"project": stranger["id"], "name": "T"}))[
        "captureBaseline"
    ]["baseline"]
    across = await api.gql(
        "query($id: ID!, $with: ID) { baseline(id: $id) { compare(with: $with) { to { name } } } }",
        {"id": first["id"], "with": theirs["id"]},
    )
    assert across["errors"][0]["extensions"]["code"] == "baseline_of_other_project"


PROJECT_SCHEDULE = """query($key: String!, $after: String) {
  project(idOrKey: $key) {
    milestones(first: 2, after: $after) { nodes { name } pageInfo { hasNextPage endCursor } }
    overdue: milestones(overdue: true) { nodes { name overdue } }
    nextMilestone { name }
    overdueMilestoneCount
  } }"""


async def test_project_schedule_fields(api: Api) -> None:
    project = await api.make_project()
    for name, due, status in (
        ("A", day(-5), "done"),
        ("B", day(-3), "planned"),
        ("C", day(-1), "in_progress"),
        ("D", day(7), "planned"),
    ):
        await make_milestone(api, project["id"], name=name, due_date=due, status=status)
    first = data(await api.gql(PROJECT_SCHEDULE, {"key": project["key"]}, "viewer"))["project"]
    assert first["milestones"]["nodes"] == [{"name": "A"}, {"name": "B"}]
    assert first["milestones"]["pageInfo"]["hasNextPage"] is True
    assert first["overdue"]["nodes"] == [
        {"name": "B", "overdue": True},
        {"name": "C", "overdue": True},
    ]
    assert first["nextMilestone"] == {"name": "B"}
    assert first["overdueMilestoneCount"] == 2
    after = first["milestones"]["pageInfo"]["endCursor"]
    rest = data(await api.gql(PROJECT_SCHEDULE, {"key": project["key"], "after": after}))
    assert rest["project"]["milestones"]["nodes"] == [{"name": "C"}, {"name": "D"}]
    assert rest["project"]["milestones"]["pageInfo"]["hasNextPage"] is False
    # The cursor continues the REST list as well: the same order, the same filters.
    rest_page = await api.get(
        f"/api/v1/projects/{project['id']}/milestones", params={"limit": 2, "cursor": after}
    )
    assert [m["name"] for m in rest_page.json()["items"]] == ["C", "D"]

    empty = await api.make_project()
    nothing = data(await api.gql(PROJECT_SCHEDULE, {"key": empty["key"]}))["project"]
    assert nothing["nextMilestone"] is None and nothing["overdueMilestoneCount"] == 0
    assert nothing["milestones"]["nodes"] == []


SCHEDULE_PAGE = """query($q: String, $first: Int!) {
  projects(first: $first, filter: {q: $q}) { nodes {
    name
    nextMilestone { name overdue }
    overdueMilestoneCount
    baseline { name milestones { name } }
    milestones(first: 2) { nodes { name } pageInfo { hasNextPage } }
    deliverables(first: 2) { nodes { name } }
    baselines(first: 1) { nodes { name } }
  } } }"""


async def test_a_page_of_projects_costs_a_fixed_number_of_statements(api: Api) -> None:
    token = uuid.uuid4().hex[:12]
    portfolio = await api.make_portfolio()
    for i in range(50):
        project = await api.make_project(portfolio["id"], name=f"Sched {token} {i:02}")
        await make_milestone(api, project["id"], name=f"Late {i}", due_date=day(-2))
        await make_milestone(api, project["id"], name=f"Next {i}", due_date=day(3 + i))
        if i % 2 == 0:
            await make_milestone(api, project["id"], name=f"Later {i}", due_date=day(60))
            captured = await api.post(
                f"/api/v1/projects/{project['id']}/baselines", json={"name": f"B{i}"}
            )
            assert captured.status_code == 201, captured.text
        if i % 3 == 0:
            response = await api.post(
                f"/api/v1/projects/{project['id']}/deliverables",
                json={"name": f"D{i}", "due_date": day(9)},
            )
            assert response.status_code == 201, response.text

    # SQLite counts its BEGIN; PostgreSQL's is not a statement of the cursor.
    begin = 1 if api.backend == "sqlite" else 0
    # authenticate + projects + next milestones + overdue counts + current baselines
    # + milestone pages + deliverable pages + baseline pages
    expected = begin + 8
    for first in (10, 50):
        with api.count_statements() as counter:
            body = await api.gql(SCHEDULE_PAGE, {"q": token, "first": first})
        nodes = data(body)["projects"]["nodes"]
        assert len(nodes) == first
        for node in nodes:
            index = int(node["name"].rsplit(" ", 1)[1])
            assert node["overdueMilestoneCount"] == 1
            assert node["nextMilestone"] == {"name": f"Late {index}", "overdue": True}
            has_baseline = index % 2 == 0
            assert (node["baseline"] is not None) is has_baseline
            if has_baseline:
                assert node["baseline"]["name"] == f"B{index}"
                assert len(node["baseline"]["milestones"]) == 3
            assert [m["name"] for m in node["milestones"]["nodes"]] == [
                f"Late {index}",
                f"Next {index}",
            ]
            assert node["milestones"]["pageInfo"]["hasNextPage"] is has_baseline
            assert len(node["deliverables"]["nodes"]) == (1 if index % 3 == 0 else 0)
            assert len(node["baselines"]["nodes"]) == (1 if has_baseline else 0)
        assert counter.count == expected, "\n".join(counter.statements)


async def test_a_viewer_runs_no_schedule_mutation(api: Api) -> None:
    project = await api.make_project()
    milestone = await make_milestone(api, project["id"])
    deliverable = (
        await api.post(
            f"/api/v1/projects/{project['id']}/deliverables",
            json={"name": "D", "due_date": day(4)},
        )
    ).json()
    calls = {
        "createMilestone": (
            f'projectId: "{project["id"]}", input: {{name: "V", dueDate: "2027-01-01"}}'
        ),
        "updateMilestone": f'id: "{milestone["id"]}", input: {{name: "V"}}',
        "archiveMilestone": f'id: "{milestone["id"]}"',
        "createDeliverable": (
            f'projectId: "{project["key"]}", input: {{name: "V", dueDate: "2027-01-01"}}'
        ),
        "updateDeliverable": f'id: "{deliverable["id"]}", input: {{status: ACCEPTED}}',
        "archiveDeliverable": f'id: "{deliverable["id"]}"',
        "captureBaseline": f'projectId: "{project["id"]}", input: {{name: "V"}}',
    }
    before = await counts(api)
    for name, arguments in calls.items():
        body = await api.gql(
            f"mutation {{ {name}({arguments}) {{ __typename ... on Error {{ code }} }} }}",
            role="viewer",
        )
        assert data(body)[name] == {"__typename": "ForbiddenError", "code": "project_forbidden"}
    assert await counts(api) == before
