"""Status reports: drafts, submission (frozen figures, the project's health), the diff
with the previous report, and the object rules, through REST and GraphQL."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from tests.conftest import Api

PATH = "/api/v1/status-reports"


def project_path(project: dict[str, Any]) -> str:
    return f"/api/v1/projects/{project['id']}/status-reports"


def body(start: str, end: str, overall: str = "green", **fields: Any) -> dict[str, Any]:
    return {"period_start": start, "period_end": end, "overall_health": overall, **fields}


def gid(type_name: str, row_id: str) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (status, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status and problem["code"] == code, problem
    return problem


async def counts(api: Api) -> dict[str, int]:
    """Every table a status report write may touch, its own included."""
    found = await api.table_counts()
    async with api.app.state.pmo.engine.connect() as connection:
        result = await connection.execute(text("SELECT count(*) FROM status_reports"))
        found["status_reports"] = int(result.scalar_one())
    return found


async def draft(
    api: Api, project: dict[str, Any], start: str, end: str, overall: str = "green", **fields: Any
) -> dict[str, Any]:
    response = await api.post(project_path(project), json=body(start, end, overall, **fields))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def submit(api: Api, report: dict[str, Any], role: str = "admin") -> dict[str, Any]:
    response = await api.post(f"{PATH}/{report['id']}/submit", role)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def events(api: Api, entity_id: str, action: str) -> list[dict[str, Any]]:
    response = await api.get("/api/v1/audit-events", params={"entity_id": entity_id})
    assert response.status_code == 200, response.text
    return [e for e in response.json()["items"] if e["action"] == action]


async def add_cost(api: Api, project: dict[str, Any], amount: float) -> None:
    response = await api.post(
        f"/api/v1/projects/{project['id']}/costs",
        json={
            "incurred_on": "2027-01-05",
            "amount": amount,
            "category": "services",
            "description": "consulting",
        },
    )
    assert response.status_code == 201, response.text


async def add_risk(api: Api, project: dict[str, Any]) -> None:
    response = await api.post(
        f"/api/v1/projects/{project['id']}/risks",
        json={"title": "Vendor late", "probability": 3, "impact": 4},
    )
    assert response.status_code == 201, response.text


async def add_overdue_milestone(api: Api, project: dict[str, Any]) -> None:
    due = (date.today() - timedelta(days=10)).isoformat()
    response = await api.post(
        f"/api/v1/projects/{project['id']}/milestones", json={"name": "Design", "due_date": due}
    )
    assert response.status_code == 201, response.text


# --- REST life cycle ------------------------------------------------------------------------


async def test_rest_life_cycle_freezes_figures_and_sets_health(api: Api) -> None:
    project = await api.make_project(planned_budget=1000, percent_complete=40)
    assert project["health"] == "green"

    created = await api.post(
        project_path(project),
        json=body("2027-01-01", "2027-01-31", "amber", summary="First month"),
    )
    assert created.status_code == 201, created.text
    report = created.json()
    assert created.headers["location"] == f"{PATH}/{report['id']}"
    assert created.headers["etag"] == '"1"'
    assert report["state"] == "draft"
    assert report["project_id"] == project["id"]
    assert report["schedule_health"] == "green"  # the default
    for figure in ("percent_complete", "actual_cost", "planned_budget", "open_risks"):
        assert report[figure] is None
    assert report["submitted_at"] is None and report["submitted_by"] is None
    assert len(await events(api, report["id"], "status_report.created")) == 1

    stale = await api.patch(
        f"{PATH}/{report['id']}", json={"summary": "x"}, headers={"If-Match": '"7"'}
    )
    assert_problem(stale, 412, "version_mismatch")
    edited = await api.patch(
        f"{PATH}/{report['id']}",
        json={"summary": "Design done", "overall_health": "red", "budget_health": "amber"},
        headers={"If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2 and edited.json()["overall_health"] == "red"
    updated = await events(api, report["id"], "status_report.updated")
    assert updated[0]["changes"]["summary"] == {"before": "First month", "after": "Design done"}

    await add_cost(api, project, 250.5)
    await add_risk(api, project)
    await add_overdue_milestone(api, project)

    project = (await api.get(f"/api/v1/projects/{project['id']}")).json()
    stale_submit = await api.post(f"{PATH}/{report['id']}/submit", headers={"If-Match": '"1"'})
    assert_problem(stale_submit, 412, "version_mismatch")
    submitted = await api.post(f"{PATH}/{report['id']}/submit", headers={"If-Match": '"2"'})
    assert submitted.status_code == 200, submitted.text
    frozen = submitted.json()
    assert frozen["state"] == "submitted"
    assert frozen["submitted_by"] and frozen["submitted_at"]
    assert (
        frozen["percent_complete"],
        frozen["actual_cost"],
        frozen["planned_budget"],
        frozen["open_risks"],
        frozen["overdue_milestones"],
    ) == (40, 250.5, 1000.0, 1, 1)
    assert submitted.headers["etag"] == f'"{frozen["version"]}"'

    after = (await api.get(f"/api/v1/projects/{project['id']}")).json()
    assert after["health"] == "red"
    assert after["version"] == project["version"] + 1
    submission = await events(api, report["id"], "status_report.submitted")
    assert len(submission) == 1
    health_events = [
        e for e in await events(api, project["id"], "project.updated") if "health" in e["changes"]
    ]
    assert len(health_events) == 1
    assert health_events[0]["changes"] == {"health": {"before": "green", "after": "red"}}
    assert health_events[0]["request_id"] == submission[0]["request_id"]
    assert submission[0]["changes"]["state"] == {"before": "draft", "after": "submitted"}
    assert submission[0]["changes"]["open_risks"] == {"before": None, "after": 1}

    # The project moves on; the report keeps what it reported.
    await add_cost(api, project, 99)
    await add_risk(api, project)
    await api.patch(f"/api/v1/projects/{project['id']}", json={"percent_complete": 70})
    again = (await api.get(f"{PATH}/{report['id']}")).json()
    assert again == frozen


async def test_submitted_report_is_immutable(api: Api) -> None:
    project = await api.make_project()
    report = await submit(api, await draft(api, project, "2027-02-01", "2027-02-28", "amber"))
    before = await counts(api)
    assert_problem(
        await api.patch(f"{PATH}/{report['id']}", json={"summary": "rewrite history"}),
        409,
        "status_report_submitted",
    )
    assert_problem(await api.delete(f"{PATH}/{report['id']}"), 409, "status_report_submitted")
    assert_problem(await api.post(f"{PATH}/{report['id']}/submit"), 409, "status_report_submitted")
    assert await counts(api) == before
    assert (await api.get(f"{PATH}/{report['id']}")).json() == report


async def test_draft_can_be_archived_and_then_not_submitted(api: Api) -> None:
    project = await api.make_project()
    report = await draft(api, project, "2027-02-01", "2027-02-28")
    archived = await api.delete(f"{PATH}/{report['id']}", headers={"If-Match": '"1"'})
    assert archived.status_code == 200, archived.text
    assert archived.json()["archived_at"] is not None
    assert len(await events(api, report["id"], "status_report.archived")) == 1
    listed = (await api.get(project_path(project))).json()["items"]
    assert listed == []
    with_archived = await api.get(project_path(project), params={"include_archived": "true"})
    assert [r["id"] for r in with_archived.json()["items"]] == [report["id"]]
    before = await counts(api)
    assert_problem(await api.post(f"{PATH}/{report['id']}/submit"), 409, "status_report_archived")
    assert await counts(api) == before


async def test_only_the_latest_period_sets_the_project_health(api: Api) -> None:
    project = await api.make_project()
    november = await submit(api, await draft(api, project, "2027-11-01", "2027-11-30", "red"))
    updates = len(await events(api, project["id"], "project.updated"))
    october = await submit(api, await draft(api, project, "2027-10-01", "2027-10-31", "green"))
    assert october["state"] == "submitted"
    current = (await api.get(f"/api/v1/projects/{project['id']}")).json()
    assert current["health"] == "red"
    assert len(await events(api, project["id"], "project.updated")) == updates
    assert len(await events(api, october["id"], "status_report.submitted")) == 1

    latest = await api.gql(
        "query($id: String!) { project(idOrKey: $id) { latestStatusReport { uuid } } }",
        {"id": project["key"]},
    )
    assert latest["data"]["project"]["latestStatusReport"] == {"uuid": november["id"]}

    # A newer period takes over.
    await submit(api, await draft(api, project, "2027-12-01", "2027-12-31", "amber"))
    assert (await api.get(f"/api/v1/projects/{project['id']}")).json()["health"] == "amber"


async def test_submitted_periods_may_not_overlap(api: Api) -> None:
    project = await api.make_project()
    first = await submit(api, await draft(api, project, "2027-03-01", "2027-03-31"))
    overlapping = await draft(api, project, "2027-03-31", "2027-04-30", "red")
    before = await counts(api)
    problem = assert_problem(
        await api.post(f"{PATH}/{overlapping['id']}/submit"), 409, "status_report_period_overlap"
    )
    assert first["id"] in problem["detail"]
    assert await counts(api) == before
    assert (await api.get(f"/api/v1/projects/{project['id']}")).json()["health"] == "green"
    # A draft may overlap anything: only submitted accounts are exclusive.
    fixed = await api.patch(f"{PATH}/{overlapping['id']}", json={"period_start": "2027-04-01"})
    assert fixed.status_code == 200, fixed.text
    assert (await submit(api, fixed.json()))["state"] == "submitted"


async def test_concurrent_submissions_serialise_on_the_project(api: Api) -> None:
    project = await api.make_project()
    report = await draft(api, project, "2027-05-01", "2027-05-31", "red")
    same = await asyncio.gather(*(api.post(f"{PATH}/{report['id']}/submit") for _ in range(2)))
    assert sorted(r.status_code for r in same) == [200, 409], [r.text for r in same]
    assert len(await events(api, report["id"], "status_report.submitted")) == 1

    a = await draft(api, project, "2027-06-01", "2027-06-30", "green")
    b = await draft(api, project, "2027-06-15", "2027-07-15", "amber")
    both = await asyncio.gather(
        api.post(f"{PATH}/{a['id']}/submit"), api.post(f"{PATH}/{b['id']}/submit")
    )
    assert sorted(r.status_code for r in both) == [200, 409], [r.text for r in both]
    winner = next(r.json() for r in both if r.status_code == 200)
    current = (await api.get(f"/api/v1/projects/{project['id']}")).json()
    assert current["health"] == winner["overall_health"]


# --- diff -----------------------------------------------------------------------------------


async def test_diff_with_previous_and_first(api: Api) -> None:
    project = await api.make_project(planned_budget=5000, percent_complete=10)
    await add_cost(api, project, 100)
    first = await submit(
        api, await draft(api, project, "2027-05-01", "2027-05-31", "green", scope_health="amber")
    )

    first_diff = (await api.get(f"{PATH}/{first['id']}/diff")).json()
    assert first_diff["report_id"] == first["id"]
    assert first_diff["previous_id"] is None
    assert first_diff["live_figures"] is False
    assert first_diff["health"]["overall"] == {"from": None, "to": "green", "change": None}
    assert first_diff["figures"]["actual_cost"] == {"from": None, "to": 100.0, "delta": None}

    await add_cost(api, project, 50.25)
    await add_risk(api, project)
    await api.patch(f"/api/v1/projects/{project['id']}", json={"percent_complete": 35})
    second = await draft(
        api, project, "2027-06-01", "2027-06-30", "red", scope_health="green", budget_health="green"
    )

    # A draft's diff uses the project's live figures.
    live = (await api.get(f"{PATH}/{second['id']}/diff")).json()
    assert live["previous_id"] == first["id"] and live["live_figures"] is True
    assert live["figures"]["actual_cost"] == {"from": 100.0, "to": 150.25, "delta": 50.25}

    second = await submit(api, second)
    await add_cost(api, project, 1000)  # after submission: not in the diff
    diff = (await api.get(f"{PATH}/{second['id']}/diff")).json()
    assert diff["previous_id"] == first["id"] and diff["live_figures"] is False
    assert diff["health"]["overall"] == {"from": "green", "to": "red", "change": "worsened"}
    assert diff["health"]["scope"] == {"from": "amber", "to": "green", "change": "improved"}
    assert diff["health"]["budget"]["change"] == "same"
    assert diff["figures"] == {
        "percent_complete": {"from": 10, "to": 35, "delta": 25},
        "actual_cost": {"from": 100.0, "to": 150.25, "delta": 50.25},
        "planned_budget": {"from": 5000.0, "to": 5000.0, "delta": 0.0},
        "open_risks": {"from": 0, "to": 1, "delta": 1},
        "overdue_milestones": {"from": 0, "to": 0, "delta": 0},
    }
    # The first report is still first, whatever came after it.
    assert (await api.get(f"{PATH}/{first['id']}/diff")).json()["previous_id"] is None
    assert_problem(await api.get(f"{PATH}/{uuid.uuid4()}/diff"), 404, "status_report_not_found")


# --- bad input and object rules -------------------------------------------------------------


async def test_bad_input_is_refused_and_nothing_written(api: Api) -> None:
    project = await api.make_project()
    report = await draft(api, project, "2027-07-01", "2027-07-31")
    before = await counts(api)
    bad = await api.post(project_path(project), json=body("2027-07-31", "2027-07-01"))
    # The same code as a PATCH that puts the end before the start.
    assert_problem(bad, 422, "dates_out_of_order")
    frozen_figure = await api.post(
        project_path(project), json=body("2027-08-01", "2027-08-31", percent_complete=90)
    )
    assert_problem(frozen_figure, 422, "validation_failed")
    wrong_health = await api.post(
        project_path(project), json=body("2027-08-01", "2027-08-31", "blue")
    )
    assert_problem(wrong_health, 422, "validation_failed")
    backwards = await api.patch(f"{PATH}/{report['id']}", json={"period_end": "2027-06-01"})
    assert_problem(backwards, 422, "dates_out_of_order")
    null_health = await api.patch(f"{PATH}/{report['id']}", json={"overall_health": None})
    assert_problem(null_health, 422, "validation_failed")
    unknown = await api.post(
        f"/api/v1/projects/{uuid.uuid4()}/status-reports", json=body("2027-08-01", "2027-08-31")
    )
    assert_problem(unknown, 404, "project_not_found")
    assert await counts(api) == before
    assert (await api.get(f"{PATH}/{report['id']}")).json() == report


async def test_role_rules(api: Api) -> None:
    mine = await api.make_project(manager_id=api.people["manager"]["id"])
    theirs = await api.make_project(manager_id=api.people["other_manager"]["id"])
    report = await draft(api, mine, "2027-09-01", "2027-09-30")
    before = await counts(api)
    for role in ("viewer", "other_manager"):
        assert_problem(
            await api.post(project_path(mine), role, json=body("2027-10-01", "2027-10-31")),
            403,
            "project_forbidden",
        )
        assert_problem(
            await api.patch(f"{PATH}/{report['id']}", role, json={"summary": "x"}),
            403,
            "project_forbidden",
        )
        assert_problem(
            await api.post(f"{PATH}/{report['id']}/submit", role), 403, "project_forbidden"
        )
        assert_problem(await api.delete(f"{PATH}/{report['id']}", role), 403, "project_forbidden")
    assert_problem(
        await api.post(project_path(theirs), "manager", json=body("2027-10-01", "2027-10-31")),
        403,
        "project_forbidden",
    )
    assert await counts(api) == before
    # Everyone reads.
    for role in ("viewer", "other_manager"):
        assert (await api.get(f"{PATH}/{report['id']}", role)).status_code == 200
        assert (await api.get(project_path(mine), role)).status_code == 200
        assert (await api.get(f"{PATH}/{report['id']}/diff", role)).status_code == 200
    # The manager writes on their own project; the submitter is recorded.
    own = await api.post(
        project_path(mine), "manager", json=body("2027-10-01", "2027-10-31", "amber")
    )
    assert own.status_code == 201, own.text
    submitted = await submit(api, own.json(), "manager")
    assert submitted["submitted_by_person_id"] == api.people["manager"]["id"]
    pmo = await api.post(project_path(theirs), "pmo", json=body("2027-10-01", "2027-10-31"))
    assert pmo.status_code == 201, pmo.text


async def test_archived_project_is_closed(api: Api) -> None:
    project = await api.make_project()
    report = await draft(api, project, "2027-09-01", "2027-09-30")
    assert (await api.delete(f"/api/v1/projects/{project['id']}")).status_code == 200
    before = await counts(api)
    assert_problem(
        await api.post(project_path(project), json=body("2027-10-01", "2027-10-31")),
        409,
        "project_archived",
    )
    assert_problem(await api.post(f"{PATH}/{report['id']}/submit"), 409, "project_archived")
    assert_problem(
        await api.patch(f"{PATH}/{report['id']}", json={"summary": "x"}), 409, "project_archived"
    )
    assert await counts(api) == before


async def test_idempotent_create_and_submit(api: Api) -> None:
    project = await api.make_project()
    key = {"Idempotency-Key": uuid.uuid4().hex}
    payload = body("2027-04-01", "2027-04-30", "amber")
    first = await api.post(project_path(project), json=payload, headers=key)
    assert first.status_code == 201, first.text
    before = await counts(api)
    replay = await api.post(project_path(project), json=payload, headers=key)
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert await counts(api) == before

    submit_key = {"Idempotency-Key": uuid.uuid4().hex}
    path = f"{PATH}/{first.json()['id']}/submit"
    done = await api.post(path, headers=submit_key)
    assert done.status_code == 200, done.text
    again = await api.post(path, headers=submit_key)
    assert again.status_code == 200 and again.json() == done.json()
    assert_problem(await api.post(path), 409, "status_report_submitted")


# --- lists ----------------------------------------------------------------------------------


async def test_list_filters_sort_and_pages(api: Api) -> None:
    project = await api.make_project()
    jan = await submit(api, await draft(api, project, "2027-01-01", "2027-01-31", "green"))
    feb = await submit(api, await draft(api, project, "2027-02-01", "2027-02-28", "red"))
    mar = await draft(api, project, "2027-03-01", "2027-03-31", "amber")
    apr = await draft(api, project, "2027-04-01", "2027-04-30", "red")
    other = await api.make_project()
    await draft(api, other, "2027-01-01", "2027-01-31")

    async def ids(**params: Any) -> list[str]:
        response = await api.get(project_path(project), params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids() == [apr["id"], mar["id"], feb["id"], jan["id"]]
    assert await ids(sort="period_end") == [jan["id"], feb["id"], mar["id"], apr["id"]]
    assert await ids(state="draft") == [apr["id"], mar["id"]]
    assert await ids(overall_health=["red", "amber"]) == [apr["id"], mar["id"], feb["id"]]
    assert await ids(period_from="2027-02-15", period_to="2027-03-15") == [mar["id"], feb["id"]]
    assert await ids(sort="-submitted_at") == [feb["id"], jan["id"]]
    assert await ids(sort="created_at") == [jan["id"], feb["id"], mar["id"], apr["id"]]
    assert_problem(
        await api.get(project_path(project), params={"sort": "summary"}), 422, "invalid_sort"
    )
    window = {"period_from": "2027-03-01", "period_to": "2027-02-01"}
    assert_problem(await api.get(project_path(project), params=window), 422, "dates_out_of_order")
    assert_problem(
        await api.get(project_path(project), params={"colour": "red"}), 422, "unknown_parameter"
    )

    walked: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1, "sort": "-period_end"}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get(project_path(project), params=params)).json()
        walked += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == [apr["id"], mar["id"], feb["id"], jan["id"]]
    # A cursor is bound to its project.
    first_page = (await api.get(project_path(project), params={"limit": 1})).json()
    foreign = await api.get(
        project_path(other), params={"limit": 1, "cursor": first_page["next_cursor"]}
    )
    assert_problem(foreign, 422, "cursor_mismatch")


# --- GraphQL ----------------------------------------------------------------------------------

REPORT_FIELDS = """
fragment R on StatusReport {
  id uuid state overallHealth summary version percentComplete actualCost openRisks
  project { key health }
}"""
CREATE = (
    """mutation($project: ID!, $input: CreateStatusReportInput!) {
  createStatusReport(projectId: $project, input: $input) {
    __typename
    ... on StatusReportPayload { statusReport { ...R } }
    ... on Error { code message }
  }
}"""
    + REPORT_FIELDS
)
UPDATE = (
    """mutation($id: ID!, $input: UpdateStatusReportInput!, $v: Int) {
  updateStatusReport(id: $id, input: $input, expectedVersion: $v) {
    __typename
    ... on StatusReportPayload { statusReport { ...R } }
    ... on Error { code message }
    ... on VersionMismatchError { currentVersion }
  }
}"""
    + REPORT_FIELDS
)
SUBMIT = (
    """mutation($id: ID!) {
  submitStatusReport(id: $id) {
    __typename
    ... on StatusReportPayload { statusReport { ...R submittedAt } }
    ... on Error { code message }
  }
}"""
    + REPORT_FIELDS
)
ARCHIVE = """mutation($id: ID!) {
  archiveStatusReport(id: $id) {
    __typename
    ... on StatusReportPayload { statusReport { archivedAt } }
    ... on Error { code }
  }
}"""
DIFF = """query($id: ID!) {
  node(id: $id) {
    ... on StatusReport {
      uuid
      diff {
        liveFigures
        previous { uuid }
        health { overall { from to change } schedule { change } }
        figures { actualCost { from to delta } openRisks { from to delta } }
      }
    }
  }
}"""


async def test_graphql_life_cycle(api: Api) -> None:
    project = await api.make_project(planned_budget=800)
    await add_cost(api, project, 80)
    created = await api.gql(
        CREATE,
        {
            "project": project["key"],
            "input": {
                "periodStart": "2027-01-01",
                "periodEnd": "2027-01-31",
                "overallHealth": "AMBER",
                "summary": "Kick-off",
            },
        },
    )
    payload = created["data"]["createStatusReport"]
    assert payload["__typename"] == "StatusReportPayload", payload
    report = payload["statusReport"]
    assert report["state"] == "DRAFT" and report["percentComplete"] is None
    assert report["id"] == gid("StatusReport", report["uuid"])

    mismatch = await api.gql(UPDATE, {"id": report["id"], "input": {"summary": "x"}, "v": 9})
    assert mismatch["data"]["updateStatusReport"]["__typename"] == "VersionMismatchError"
    backwards = await api.gql(UPDATE, {"id": report["id"], "input": {"periodEnd": "2026-12-01"}})
    assert backwards["data"]["updateStatusReport"]["__typename"] == "ValidationError"
    edited = await api.gql(UPDATE, {"id": report["id"], "input": {"overallHealth": "RED"}, "v": 1})
    assert edited["data"]["updateStatusReport"]["statusReport"]["overallHealth"] == "RED"

    submitted = (await api.gql(SUBMIT, {"id": report["id"]}))["data"]["submitStatusReport"]
    assert submitted["__typename"] == "StatusReportPayload", submitted
    frozen = submitted["statusReport"]
    assert frozen["state"] == "SUBMITTED" and frozen["actualCost"] == 80.0
    assert frozen["project"]["health"] == "RED"
    assert len(await events(api, report["uuid"], "status_report.submitted")) == 1

    before = await counts(api)
    twice = (await api.gql(SUBMIT, {"id": report["id"]}))["data"]["submitStatusReport"]
    assert (twice["__typename"], twice["code"]) == ("ConflictError", "status_report_submitted")
    locked = await api.gql(UPDATE, {"id": report["id"], "input": {"summary": "again"}})
    assert locked["data"]["updateStatusReport"]["code"] == "status_report_submitted"
    kept = (await api.gql(ARCHIVE, {"id": report["id"]}))["data"]["archiveStatusReport"]
    assert (kept["__typename"], kept["code"]) == ("ConflictError", "status_report_submitted")
    viewer = await api.gql(SUBMIT, {"id": report["id"]}, role="viewer")
    assert viewer["data"]["submitStatusReport"]["__typename"] == "ForbiddenError"
    assert await counts(api) == before

    # A second report: its diff against the first.
    second = (
        await api.gql(
            CREATE,
            {
                "project": gid("Project", project["id"]),
                "input": {
                    "periodStart": "2027-02-01",
                    "periodEnd": "2027-02-28",
                    "overallHealth": "GREEN",
                },
            },
        )
    )["data"]["createStatusReport"]["statusReport"]
    await add_risk(api, project)
    diff = (await api.gql(DIFF, {"id": second["id"]}))["data"]["node"]["diff"]
    assert diff["liveFigures"] is True
    assert diff["previous"] == {"uuid": report["uuid"]}
    assert diff["health"]["overall"] == {"from": "RED", "to": "GREEN", "change": "IMPROVED"}
    assert diff["figures"]["openRisks"] == {"from": 0, "to": 1, "delta": 1}
    first_diff = (await api.gql(DIFF, {"id": report["id"]}))["data"]["node"]["diff"]
    assert first_diff["previous"] is None and first_diff["health"]["overall"]["change"] is None

    archived = (await api.gql(ARCHIVE, {"id": second["id"]}))["data"]["archiveStatusReport"]
    assert (
        archived["__typename"] == "StatusReportPayload" and archived["statusReport"]["archivedAt"]
    )

    listed = await api.gql(
        """query($p: String!) {
          statusReports(project: $p, filter: {includeArchived: true}, sort: "periodEnd") {
            nodes { uuid } }
          project(idOrKey: $p) {
            statusReports(first: 5) { nodes { uuid } pageInfo { hasNextPage } }
            latestStatusReport { uuid state }
          }
        }""",
        {"p": project["key"]},
    )
    assert [n["uuid"] for n in listed["data"]["statusReports"]["nodes"]] == [
        report["uuid"],
        second["uuid"],
    ]
    nested = listed["data"]["project"]
    assert [n["uuid"] for n in nested["statusReports"]["nodes"]] == [report["uuid"]]
    assert nested["latestStatusReport"] == {"uuid": report["uuid"], "state": "SUBMITTED"}


async def test_graphql_archived_project_and_other_manager(api: Api) -> None:
    mine = await api.make_project(manager_id=api.people["manager"]["id"])
    variables = {
        "project": mine["key"],
        "input": {"periodStart": "2027-01-01", "periodEnd": "2027-01-31", "overallHealth": "GREEN"},
    }
    before = await counts(api)
    refused = await api.gql(CREATE, variables, role="other_manager")
    assert refused["data"]["createStatusReport"]["code"] == "project_forbidden"
    backwards = await api.gql(
        CREATE,
        {**variables, "input": {**variables["input"], "periodEnd": "2026-01-01"}},
        role="manager",
    )
    assert backwards["data"]["createStatusReport"]["__typename"] == "ValidationError"
    assert await counts(api) == before
    own = (await api.gql(CREATE, variables, role="manager"))["data"]["createStatusReport"]
    assert own["__typename"] == "StatusReportPayload", own
    submitted = await api.gql(
        """mutation($id: ID!) { submitStatusReport(id: $id) {
          ... on StatusReportPayload { statusReport { submittedBy submittedByPerson { uuid } } }
        } }""",
        {"id": own["statusReport"]["id"]},
        role="manager",
    )
    frozen = submitted["data"]["submitStatusReport"]["statusReport"]
    assert frozen["submittedByPerson"] == {"uuid": api.people["manager"]["id"]}
    assert frozen["submittedBy"] == "test manager"
    assert (await api.delete(f"/api/v1/projects/{mine['id']}")).status_code == 200
    closed = await api.gql(CREATE, variables)
    assert closed["data"]["createStatusReport"]["code"] == "project_archived"


async def test_project_page_with_reports_costs_a_fixed_number_of_statements(api: Api) -> None:
    token = uuid.uuid4().hex[:10]
    portfolio = await api.make_portfolio()
    for index in range(50):
        project = await api.make_project(portfolio["id"], name=f"Reported {token} {index}")
        if index % 2 == 0:
            await submit(api, await draft(api, project, "2027-01-01", "2027-01-31", "amber"))
        await draft(api, project, "2027-02-01", "2027-02-28", "red")
    query = """query($q: String!, $first: Int!) {
      projects(first: $first, filter: {q: $q}) {
        nodes {
          key health
          latestStatusReport { uuid overallHealth diff { previous { uuid } } }
          statusReports(first: 1) { nodes { state } pageInfo { hasNextPage endCursor } }
        }
      }
    }"""
    measured = []
    for first in (10, 50):
        with api.count_statements() as counter:
            result = await api.gql(query, {"q": token, "first": first})
        assert "errors" not in result, result
        nodes = result["data"]["projects"]["nodes"]
        assert len(nodes) == first
        reported = [n for n in nodes if n["latestStatusReport"] is not None]
        assert reported and (first == 10 or len(reported) == 25)
        assert all(n["health"] == "AMBER" for n in reported)
        assert all(n["statusReports"]["nodes"] == [{"state": "DRAFT"}] for n in nodes)
        assert all(
            n["statusReports"]["pageInfo"]["hasNextPage"] == (n["latestStatusReport"] is not None)
            for n in nodes
        )
        measured.append(counter.count)
    assert measured[0] == measured[1], measured

    # The nested page's cursor continues with the project's own list.
    node = next(n for n in nodes if n["latestStatusReport"] is not None)
    more = await api.gql(
        """query($key: String!, $after: String!) {
          project(idOrKey: $key) { statusReports(first: 1, after: $after) { nodes { state } } }
        }""",
        {"key": node["key"], "after": node["statusReports"]["pageInfo"]["endCursor"]},
    )
    assert more["data"]["project"]["statusReports"]["nodes"] == [{"state": "SUBMITTED"}]
