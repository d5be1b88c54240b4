"""The RAID log (risks, issues, change requests) through REST and GraphQL, on both
databases: life cycles, derived values, refusals that write nothing, role rules, the
approval of a change request applied to its project, and the SQL cost of a page."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from tests.conftest import Api
from tests.test_rest_conventions import assert_problem

RAID_TABLES = ("risks", "project_issues", "change_requests")


def gid(type_name: str, row_id: str) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]
    return result


async def counts(api: Api) -> dict[str, int]:
    """Row counts of every table a RAID write can touch (proof that nothing was written)."""
    found = await api.table_counts()
    async with api.app.state.pmo.engine.connect() as connection:
        for table in RAID_TABLES:
            result = await connection.execute(text(f"SELECT count(*) FROM {table}"))
            found[table] = int(result.scalar_one())
    return found


async def audit(api: Api, entity_id: str) -> list[dict[str, Any]]:
    response = await api.get(
        "/api/v1/audit-events", params={"entity_id": entity_id, "sort": "occurred_at"}
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def managed_project(api: Api, **fields: Any) -> dict[str, Any]:
    """A project the ``manager`` key manages."""
    return await api.make_project(manager_id=api.people["manager"]["id"], **fields)


async def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


# --- risks ---------------------------------------------------------------------------------


async def test_risk_life_cycle_and_derived_score(api: Api) -> None:
    project = await managed_project(api)
    owner = await api.make_person(name="Risk owner")
    created = await api.post(
        f"/api/v1/projects/{project['key']}/risks",
        "manager",
        json={
            "title": "Vendor may slip",
            "probability": 3,
            "impact": 4,
            "owner_id": owner["id"],
            "response": "mitigate",
            "mitigation": "Second vendor on standby",
        },
    )
    risk = await ok(created, 201)
    assert created.headers["location"] == f"/api/v1/risks/{risk['id']}"
    assert created.headers["etag"] == '"1"'
    assert (risk["score"], risk["status"], risk["project_id"]) == (12, "open", project["id"])
    assert (await ok(await api.get(f"/api/v1/risks/{risk['id']}", "viewer")))["score"] == 12

    patched = await ok(
        await api.patch(
            f"/api/v1/risks/{risk['id']}",
            "manager",
            json={"probability": 5},
            headers={"If-Match": '"1"'},
        )
    )
    assert (patched["probability"], patched["impact"], patched["score"]) == (5, 4, 20)
    assert patched["version"] == 2
    patched = await ok(await api.patch(f"/api/v1/risks/{risk['id']}", json={"impact": 1}))
    assert patched["score"] == 5

    # A stale If-Match is refused and writes nothing.
    before = await counts(api)
    stale = await api.patch(
        f"/api/v1/risks/{risk['id']}", json={"impact": 2}, headers={"If-Match": '"1"'}
    )
    assert_problem(stale, 412, "version_mismatch")
    assert await counts(api) == before

    # A review is recorded by setting last_reviewed_on; never in the future.
    today = datetime.now(UTC).date()
    reviewed = await ok(
        await api.patch(f"/api/v1/risks/{risk['id']}", json={"last_reviewed_on": today.isoformat()})
    )
    assert reviewed["last_reviewed_on"] == today.isoformat()
    future = (today + timedelta(days=2)).isoformat()
    assert_problem(
        await api.patch(f"/api/v1/risks/{risk['id']}", json={"last_reviewed_on": future}),
        422,
        "review_in_future",
    )
    assert await counts(api) == {**before, "audit_events": before["audit_events"] + 1}

    archived = await ok(await api.delete(f"/api/v1/risks/{risk['id']}", "manager"))
    assert archived["archived_at"] is not None
    assert_problem(
        await api.patch(f"/api/v1/risks/{risk['id']}", json={"impact": 2}), 409, "risk_archived"
    )
    listed = await ok(await api.get(f"/api/v1/projects/{project['id']}/risks"))
    assert listed["items"] == []
    everything = await ok(
        await api.get(
            f"/api/v1/projects/{project['id']}/risks", params={"include_archived": "true"}
        )
    )
    assert [r["id"] for r in everything["items"]] == [risk["id"]]

    events = await audit(api, risk["id"])
    assert [e["action"] for e in events] == [
        "risk.raised",
        "risk.updated",
        "risk.updated",
        "risk.updated",
        "risk.archived",
    ]
    assert events[1]["changes"]["score"] == {"before": 12, "after": 20}
    assert events[0]["changes"]["score"] == {"before": None, "after": 12}


async def test_bad_risk_input_is_refused_and_writes_nothing(api: Api) -> None:
    project = await managed_project(api)
    path = f"/api/v1/projects/{project['id']}/risks"
    risk = await ok(await api.post(path, json={"title": "r", "probability": 2, "impact": 2}), 201)
    before = await counts(api)
    for body in (
        {"title": "r", "probability": 0, "impact": 3},
        {"title": "r", "probability": 6, "impact": 3},
        {"title": "r", "probability": 3, "impact": 6},
        {"title": "r", "probability": 3},
        {"title": "r", "probability": 3, "impact": 3, "score": 9},
        {"title": "", "probability": 3, "impact": 3},
        {"title": "r", "probability": 3, "impact": 3, "status": "gone"},
        {"title": "r", "probability": 3, "impact": 3, "response": "ignore"},
    ):
        assert_problem(await api.post(path, json=body), 422)
    unknown_owner = await api.post(
        path, json={"title": "r", "probability": 3, "impact": 3, "owner_id": str(uuid.uuid4())}
    )
    assert_problem(unknown_owner, 422, "person_not_found")
    future = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    assert_problem(
        await api.post(
            path, json={"title": "r", "probability": 3, "impact": 3, "last_reviewed_on": future}
        ),
        422,
        "review_in_future",
    )
    for patch in ({"probability": 0}, {"impact": 6}, {"probability": None}, {"score": 4}):
        assert_problem(await api.patch(f"/api/v1/risks/{risk['id']}", json=patch), 422)
    assert await counts(api) == before
    unchanged = await ok(await api.get(f"/api/v1/risks/{risk['id']}"))
    assert (unchanged["score"], unchanged["version"]) == (4, 1)
    assert_problem(await api.get(f"/api/v1/risks/{uuid.uuid4()}"), 404, "risk_not_found")
    assert_problem(await api.get(f"/api/v1/projects/{uuid.uuid4()}/risks"), 404)


async def test_risk_role_and_project_rules(api: Api) -> None:
    project = await managed_project(api)
    path = f"/api/v1/projects/{project['id']}/risks"
    body = {"title": "r", "probability": 1, "impact": 5}
    risk = await ok(await api.post(path, "pmo", json=body), 201)
    before = await counts(api)
    assert_problem(await api.post(path, "viewer", json=body), 403, "project_forbidden")
    assert_problem(await api.post(path, "other_manager", json=body), 403, "project_forbidden")
    own = f"/api/v1/risks/{risk['id']}"
    assert_problem(await api.patch(own, "viewer", json={"impact": 1}), 403, "project_forbidden")
    assert_problem(await api.patch(own, "other_manager", json={"impact": 1}), 403)
    assert_problem(await api.delete(own, "viewer"), 403, "project_forbidden")
    assert await counts(api) == before
    # Every role reads.
    assert (await ok(await api.get(path, "other_manager")))["items"][0]["id"] == risk["id"]

    archived = await ok(await api.delete(f"/api/v1/projects/{project['id']}"))
    assert archived["archived_at"] is not None
    before = await counts(api)
    assert_problem(await api.post(path, json=body), 409, "project_archived")
    assert_problem(await api.patch(own, json={"impact": 1}), 409, "project_archived")
    assert_problem(await api.delete(own), 409, "project_archived")
    assert await counts(api) == before
    assert (await ok(await api.get(own)))["impact"] == 5


async def test_risk_list_filters_sorts_and_pages(api: Api) -> None:
    project = await managed_project(api)
    owner = await api.make_person(name="Owner")
    path = f"/api/v1/projects/{project['id']}/risks"
    specs = [
        ("a", 1, 1, "open", None),
        ("b", 3, 4, "mitigating", owner["id"]),
        ("c", 5, 5, "closed", None),
        ("d", 2, 3, "open", owner["id"]),
        ("e", 4, 4, "occurred", None),
    ]
    ids = {}
    for title, p, i, status, owner_id in specs:
        body = {"title": title, "probability": p, "impact": i, "status": status}
        if owner_id:
            body["owner_id"] = owner_id
        ids[title] = (await ok(await api.post(path, json=body), 201))["id"]

    def titles(page: dict[str, Any]) -> list[str]:
        return [item["title"] for item in page["items"]]

    assert titles(await ok(await api.get(path))) == ["c", "e", "b", "d", "a"]  # -score
    assert titles(await ok(await api.get(path, params={"sort": "title"}))) == list("abcde")
    assert titles(await ok(await api.get(path, params={"sort": "score"}))) == list("adbec")
    assert titles(await ok(await api.get(path, params={"status": ["open", "mitigating"]}))) == [
        "b",
        "d",
        "a",
    ]
    assert titles(await ok(await api.get(path, params={"min_score": 12}))) == ["c", "e", "b"]
    assert titles(await ok(await api.get(path, params={"owner_id": owner["id"]}))) == ["b", "d"]
    assert_problem(await api.get(path, params={"min_score": 26}), 422)
    assert_problem(await api.get(path, params={"sort": "impact"}), 422, "invalid_sort")
    assert_problem(await api.get(path, params={"colour": "red"}), 422)

    walked: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "sort": "-score"}
        if cursor:
            params["cursor"] = cursor
        page = await ok(await api.get(path, params=params))
        walked += titles(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == ["c", "e", "b", "d", "a"]


async def test_idempotent_risk_creation_replays(api: Api) -> None:
    project = await managed_project(api)
    path = f"/api/v1/projects/{project['id']}/risks"
    body = {"title": "once", "probability": 2, "impact": 2}
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    first = await api.post(path, json=body, headers=headers)
    assert first.status_code == 201
    before = await counts(api)
    again = await api.post(path, json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert await counts(api) == before


# --- issues --------------------------------------------------------------------------------


async def test_issue_life_cycle_and_resolution(api: Api) -> None:
    project = await managed_project(api)
    path = f"/api/v1/projects/{project['id']}/issues"
    before = await counts(api)
    assert_problem(
        await api.post(path, json={"title": "x", "status": "resolved"}), 422, "resolution_required"
    )
    assert_problem(await api.post(path, json={"title": "x", "severity": "dire"}), 422)
    assert_problem(await api.post(path, "viewer", json={"title": "x"}), 403, "project_forbidden")
    assert await counts(api) == before

    issue = await ok(
        await api.post(path, "manager", json={"title": "Build server down", "severity": "high"}),
        201,
    )
    assert (issue["status"], issue["resolved_at"], issue["resolution"]) == ("open", None, None)
    own = f"/api/v1/issues/{issue['id']}"

    before = await counts(api)
    for status in ("resolved", "closed"):
        assert_problem(
            await api.patch(own, "manager", json={"status": status}), 422, "resolution_required"
        )
    assert await counts(api) == before
    assert (await ok(await api.get(own)))["version"] == 1

    resolved = await ok(
        await api.patch(own, "manager", json={"status": "resolved", "resolution": "Rebuilt"})
    )
    assert resolved["resolved_at"] is not None and resolved["resolution"] == "Rebuilt"
    assert_problem(await api.patch(own, json={"resolution": None}), 422, "resolution_required")
    closed = await ok(await api.patch(own, json={"status": "closed"}))
    assert closed["resolved_at"] == resolved["resolved_at"]  # still when it was resolved
    reopened = await ok(await api.patch(own, json={"status": "in_progress"}))
    assert reopened["resolved_at"] is None

    assert (await ok(await api.get(path, params={"status": "in_progress"})))["items"][0][
        "id"
    ] == issue["id"]
    assert (await ok(await api.get(path, params={"severity": "low"})))["items"] == []
    await ok(await api.delete(own))
    assert [e["action"] for e in await audit(api, issue["id"])] == [
        "issue.raised",
        "issue.updated",
        "issue.updated",
        "issue.updated",
        "issue.archived",
    ]
    assert_problem(await api.get(f"/api/v1/issues/{uuid.uuid4()}"), 404, "issue_not_found")


# --- change requests -----------------------------------------------------------------------


async def propose(api: Api, project: dict[str, Any], role: str = "manager", **fields: Any) -> Any:
    body = {"title": "Add a reporting module", **fields}
    return await ok(
        await api.post(f"/api/v1/projects/{project['id']}/changes", role, json=body), 201
    )


async def test_approving_a_change_moves_the_project_and_is_audited(api: Api) -> None:
    project = await managed_project(
        api, planned_budget=1000, planned_start="2027-01-01", planned_end="2027-06-30"
    )
    change = await propose(api, project, budget_impact=250.5, schedule_impact_days=14)
    assert (change["status"], change["decided_at"]) == ("proposed", None)
    assert change["budget_impact"] == 250.5
    path = f"/api/v1/changes/{change['id']}"

    # The manager proposes and edits while proposed, but neither they nor a viewer decide.
    change = await ok(await api.patch(path, "manager", json={"description": "Scope +1"}))
    before = await counts(api)
    for role in ("manager", "viewer", "other_manager"):
        assert_problem(await api.post(f"{path}/approve", role), 403, "change_decision_forbidden")
        assert_problem(await api.post(f"{path}/reject", role), 403, "change_decision_forbidden")
    assert_problem(await api.post(f"{path}/approve", headers={"If-Match": '"1"'}), 412)
    assert await counts(api) == before

    approved = await ok(
        await api.post(
            f"{path}/approve", "pmo", json={"note": "Board agreed"}, headers={"If-Match": '"2"'}
        )
    )
    assert approved["status"] == "approved"
    assert approved["decided_by"] == "test pmo"
    assert approved["decision_note"] == "Board agreed"
    assert approved["decided_at"] is not None
    moved = await ok(await api.get(f"/api/v1/projects/{project['id']}"))
    assert moved["planned_budget"] == 1250.5
    assert moved["planned_end"] == "2027-07-14"
    assert moved["planned_start"] == "2027-01-01"
    assert moved["version"] == project["version"] + 1

    change_events = await audit(api, change["id"])
    assert [e["action"] for e in change_events] == [
        "change.proposed",
        "change.updated",
        "change.approved",
    ]
    assert change_events[-1]["changes"]["status"] == {"before": "proposed", "after": "approved"}
    project_events = await audit(api, project["id"])
    assert project_events[-1]["action"] == "project.updated"
    assert project_events[-1]["changes"] == {
        "planned_budget": {"before": "1000.00", "after": "1250.50"},
        "planned_end": {"before": "2027-06-30", "after": "2027-07-14"},
        "change_request_id": {"before": None, "after": change["id"]},
    }
    assert project_events[-1]["request_id"] == change_events[-1]["request_id"]

    # Deciding twice (either way) or editing a decided change is a 409 that writes nothing.
    before = await counts(api)
    assert_problem(await api.post(f"{path}/approve"), 409, "change_already_decided")
    assert_problem(await api.post(f"{path}/reject"), 409, "change_already_decided")
    assert_problem(await api.patch(path, json={"title": "x"}), 409, "change_already_decided")
    assert await counts(api) == before
    again = await ok(await api.get(f"/api/v1/projects/{project['id']}"))
    assert (again["planned_budget"], again["version"]) == (1250.5, moved["version"])


async def test_rejected_change_leaves_the_project_and_cannot_be_approved(api: Api) -> None:
    project = await managed_project(api, planned_budget=500, planned_end="2027-03-31")
    change = await propose(api, project, budget_impact=-100, schedule_impact_days=-10)
    path = f"/api/v1/changes/{change['id']}"
    rejected = await ok(await api.post(f"{path}/reject", "admin"))
    assert rejected["status"] == "rejected" and rejected["decided_at"] is not None
    before = await counts(api)
    assert_problem(await api.post(f"{path}/approve", "pmo"), 409, "change_already_decided")
    assert await counts(api) == before
    same = await ok(await api.get(f"/api/v1/projects/{project['id']}"))
    assert (same["planned_budget"], same["planned_end"]) == (500.0, "2027-03-31")
    assert [e["action"] for e in await audit(api, change["id"])] == [
        "change.proposed",
        "change.rejected",
    ]


async def test_change_impacts_that_break_the_project_are_refused(api: Api) -> None:
    project = await managed_project(
        api, planned_budget=100, planned_start="2027-01-10", planned_end="2027-01-20"
    )
    too_cheap = await propose(api, project, budget_impact=-200)
    too_early = await propose(api, project, schedule_impact_days=-30)
    before = await counts(api)
    negative = assert_problem(
        await api.post(f"/api/v1/changes/{too_cheap['id']}/approve", "pmo"),
        422,
        "planned_budget_negative",
    )
    # The approve body has no budget_impact: the detail names the change's field and no
    # error points into the body.
    assert "budget_impact" in negative["detail"]
    assert not any(e["loc"][:1] == ["body"] for e in negative.get("errors") or [])
    early = assert_problem(
        await api.post(f"/api/v1/changes/{too_early['id']}/approve", "pmo"),
        422,
        "dates_out_of_order",
    )
    assert "schedule_impact_days" in early["detail"]
    assert not any(e["loc"][:1] == ["body"] for e in early.get("errors") or [])
    assert await counts(api) == before
    still = await ok(await api.get(f"/api/v1/changes/{too_cheap['id']}"))
    assert (still["status"], still["version"]) == ("proposed", 1)
    same = await ok(await api.get(f"/api/v1/projects/{project['id']}"))
    assert (same["planned_budget"], same["version"]) == (100.0, project["version"])


async def test_a_schedule_impact_without_a_planned_end_is_refused(api: Api) -> None:
    open_ended = await managed_project(api, planned_budget=100)
    change = await propose(api, open_ended, budget_impact=-100, schedule_impact_days=30)
    before = await counts(api)
    refused = assert_problem(
        await api.post(f"/api/v1/changes/{change['id']}/approve", "pmo"), 409, "no_planned_end"
    )
    assert "schedule_impact_days" in refused["detail"]
    graphql = data(await api.gql(APPROVE, {"id": change["id"]}, role="pmo"))["approveChange"]
    assert (graphql["__typename"], graphql["code"]) == ("ConflictError", "no_planned_end")
    assert await counts(api) == before
    still = await ok(await api.get(f"/api/v1/changes/{change['id']}"))
    assert (still["status"], still["version"]) == ("proposed", 1)
    same = await ok(await api.get(f"/api/v1/projects/{open_ended['id']}"))
    assert (same["planned_budget"], same["planned_end"], same["version"]) == (
        100.0,
        None,
        open_ended["version"],
    )

    # A change with no schedule impact still applies to a project without a planned end.
    budget_only = await propose(api, open_ended, budget_impact=-100)
    await ok(await api.post(f"/api/v1/changes/{budget_only['id']}/approve", "pmo"))
    moved = await ok(await api.get(f"/api/v1/projects/{open_ended['id']}"))
    assert (moved["planned_budget"], moved["planned_end"]) == (0.0, None)


async def test_change_impacts_past_the_column_limits_are_refused(api: Api) -> None:
    rich = await managed_project(api, planned_budget="999999999999.00")
    late = await managed_project(api, planned_start="9999-01-01", planned_end="9999-12-30")
    early = await managed_project(api, planned_end="0001-01-05")
    too_rich = await propose(api, rich, budget_impact=1)
    later = await propose(api, late, schedule_impact_days=5)
    earlier = await propose(api, early, schedule_impact_days=-10)
    before = await counts(api)

    large = assert_problem(
        await api.post(f"/api/v1/changes/{too_rich['id']}/approve", "pmo"),
        422,
        "planned_budget_too_large",
    )
    assert "budget_impact" in large["detail"]
    assert not any(e["loc"][:1] == ["body"] for e in large.get("errors") or [])
    for change in (later, earlier):
        out = assert_problem(
            await api.post(f"/api/v1/changes/{change['id']}/approve", "pmo"),
            422,
            "planned_end_out_of_range",
        )
        assert "schedule_impact_days" in out["detail"]
    graphql = data(await api.gql(APPROVE, {"id": too_rich["id"]}, role="pmo"))["approveChange"]
    assert (graphql["__typename"], graphql["code"]) == (
        "ValidationError",
        "planned_budget_too_large",
    )
    graphql = data(await api.gql(APPROVE, {"id": later["id"]}, role="pmo"))["approveChange"]
    assert graphql["code"] == "planned_end_out_of_range"

    assert await counts(api) == before
    for project, budget, end in (
        (rich, 999999999999.0, None),
        (late, 0.0, "9999-12-30"),
        (early, 0.0, "0001-01-05"),
    ):
        same = await ok(await api.get(f"/api/v1/projects/{project['id']}"))
        assert (same["planned_budget"], same["planned_end"], same["version"]) == (
            budget,
            end,
            project["version"],
        )
    for change in (too_rich, later, earlier):
        still = await ok(await api.get(f"/api/v1/changes/{change['id']}"))
        assert (still["status"], still["version"]) == ("proposed", 1)

    # Up to exactly the largest amount is fine.
    exact = await propose(api, rich, budget_impact=0.99)
    await ok(await api.post(f"/api/v1/changes/{exact['id']}/approve", "pmo"))
    full = await ok(await api.get(f"/api/v1/projects/{rich['id']}"))
    assert full["planned_budget"] == 999999999999.99


async def test_change_rules_on_roles_and_archived_projects(api: Api) -> None:
    project = await managed_project(api)
    path = f"/api/v1/projects/{project['id']}/changes"
    before = await counts(api)
    assert_problem(await api.post(path, "viewer", json={"title": "x"}), 403, "project_forbidden")
    assert_problem(await api.post(path, "other_manager", json={"title": "x"}), 403)
    assert_problem(await api.post(path, json={"title": "x", "status": "approved"}), 422)
    assert_problem(await api.post(path, json={"title": "x", "budget_impact": 1.234}), 422)
    assert await counts(api) == before

    change = await propose(api, project, role="pmo")
    listed = await ok(await api.get(path, params={"status": "proposed"}))
    assert [c["id"] for c in listed["items"]] == [change["id"]]
    assert (await ok(await api.get(path, params={"status": "approved"})))["items"] == []

    await ok(await api.delete(f"/api/v1/projects/{project['id']}"))
    before = await counts(api)
    assert_problem(await api.post(path, json={"title": "x"}), 409, "project_archived")
    assert_problem(
        await api.post(f"/api/v1/changes/{change['id']}/approve"), 409, "project_archived"
    )
    assert await counts(api) == before
    assert_problem(await api.post(f"/api/v1/changes/{uuid.uuid4()}/approve"), 404)


# --- GraphQL -------------------------------------------------------------------------------

ERRORS = """__typename ... on Error { code message }
    ... on ValidationError { errors { loc msg type } }"""
RISK_FIELDS = "id uuid title probability impact score status version owner { name } project { key }"

CREATE_RISK = f"""mutation($project: ID!, $input: CreateRiskInput!) {{
    createRisk(projectId: $project, input: $input) {{ {ERRORS}
    ... on RiskPayload {{ risk {{ {RISK_FIELDS} }} }} }} }}"""
UPDATE_RISK = f"""mutation($id: ID!, $input: UpdateRiskInput!, $version: Int) {{
    updateRisk(id: $id, input: $input, expectedVersion: $version) {{ {ERRORS}
    ... on VersionMismatchError {{ currentVersion }}
    ... on RiskPayload {{ risk {{ {RISK_FIELDS} }} }} }} }}"""
ARCHIVE_RISK = f"""mutation($id: ID!) {{ archiveRisk(id: $id) {{ {ERRORS}
    ... on RiskPayload {{ risk {{ archivedAt }} }} }} }}"""
CREATE_ISSUE = f"""mutation($project: ID!, $input: CreateIssueInput!) {{
    createIssue(projectId: $project, input: $input) {{ {ERRORS}
    ... on ProjectIssuePayload {{ issue {{ id uuid status resolvedAt }} }} }} }}"""
UPDATE_ISSUE = f"""mutation($id: ID!, $input: UpdateIssueInput!) {{
    updateIssue(id: $id, input: $input) {{ {ERRORS}
    ... on ProjectIssuePayload {{ issue {{ status resolution resolvedAt }} }} }} }}"""
PROPOSE = f"""mutation($project: ID!, $input: ProposeChangeInput!) {{
    proposeChange(projectId: $project, input: $input) {{ {ERRORS}
    ... on ChangeRequestPayload {{ change {{ id uuid status budgetImpact }} }} }} }}"""
APPROVE = f"""mutation($id: ID!, $note: String) {{ approveChange(id: $id, note: $note) {{
    {ERRORS} ... on ChangeRequestPayload {{ change {{ status decidedBy decisionNote
    project {{ plannedBudget plannedEnd }} }} }} }} }}"""
REJECT = f"""mutation($id: ID!) {{ rejectChange(id: $id) {{ {ERRORS}
    ... on ChangeRequestPayload {{ change {{ status }} }} }} }}"""


async def test_graphql_risk_and_issue_life_cycles(api: Api) -> None:
    project = await managed_project(api)
    owner = await api.make_person(name="GQL owner")
    created = data(
        await api.gql(
            CREATE_RISK,
            {
                "project": project["key"],
                "input": {
                    "title": "Licence costs",
                    "probability": 3,
                    "impact": 4,
                    "ownerId": gid("Person", owner["id"]),
                },
            },
            role="manager",
        )
    )["createRisk"]
    risk = created["risk"]
    assert (risk["score"], risk["owner"], risk["project"]) == (
        12,
        {"name": "GQL owner"},
        {"key": project["key"]},
    )
    updated = data(
        await api.gql(UPDATE_RISK, {"id": risk["id"], "input": {"impact": 5}, "version": 1})
    )["updateRisk"]
    assert (updated["risk"]["score"], updated["risk"]["version"]) == (15, 2)
    stale = data(
        await api.gql(UPDATE_RISK, {"id": risk["id"], "input": {"impact": 1}, "version": 1})
    )["updateRisk"]
    assert (stale["__typename"], stale["currentVersion"]) == ("VersionMismatchError", 2)

    before = await counts(api)
    refused = data(
        await api.gql(
            CREATE_RISK,
            {"project": project["id"], "input": {"title": "x", "probability": 6, "impact": 1}},
        )
    )["createRisk"]
    assert refused["__typename"] == "ValidationError"
    assert refused["errors"][0]["loc"] == ["input", "probability"]
    viewer = data(
        await api.gql(
            CREATE_RISK,
            {"project": project["id"], "input": {"title": "x", "probability": 1, "impact": 1}},
            role="viewer",
        )
    )["createRisk"]
    assert (viewer["__typename"], viewer["code"]) == ("ForbiddenError", "project_forbidden")
    assert await counts(api) == before

    node = data(
        await api.gql(
            "query($id: ID!) { node(id: $id) { ... on Risk { score } } }", {"id": risk["id"]}
        )
    )
    assert node["node"] == {"score": 15}
    archived = data(await api.gql(ARCHIVE_RISK, {"id": risk["id"]}))["archiveRisk"]
    assert archived["risk"]["archivedAt"] is not None

    issue = data(
        await api.gql(CREATE_ISSUE, {"project": project["id"], "input": {"title": "Outage"}})
    )["createIssue"]["issue"]
    before = await counts(api)
    missing = data(await api.gql(UPDATE_ISSUE, {"id": issue["id"], "input": {"status": "CLOSED"}}))
    assert missing["updateIssue"]["code"] == "resolution_required"
    assert await counts(api) == before
    closed = data(
        await api.gql(
            UPDATE_ISSUE, {"id": issue["id"], "input": {"status": "CLOSED", "resolution": "Fixed"}}
        )
    )["updateIssue"]["issue"]
    assert closed["status"] == "CLOSED" and closed["resolvedAt"].endswith("Z")


async def test_graphql_change_approval(api: Api) -> None:
    project = await managed_project(api, planned_budget=2000, planned_end="2027-09-30")
    change = data(
        await api.gql(
            PROPOSE,
            {
                "project": gid("Project", project["id"]),
                "input": {"title": "Extra sprint", "budgetImpact": -500, "scheduleImpactDays": 1},
            },
            role="manager",
        )
    )["proposeChange"]["change"]
    assert (change["status"], change["budgetImpact"]) == ("PROPOSED", -500)

    before = await counts(api)
    for role in ("manager", "viewer"):
        refused = data(await api.gql(APPROVE, {"id": change["id"]}, role=role))["approveChange"]
        assert (refused["__typename"], refused["code"]) == (
            "ForbiddenError",
            "change_decision_forbidden",
        )
    assert await counts(api) == before

    approved = data(await api.gql(APPROVE, {"id": change["id"], "note": "ok"}, role="pmo"))
    decided = approved["approveChange"]["change"]
    assert (decided["status"], decided["decidedBy"], decided["decisionNote"]) == (
        "APPROVED",
        "test pmo",
        "ok",
    )
    assert decided["project"] == {"plannedBudget": 1500, "plannedEnd": "2027-10-01"}

    before = await counts(api)
    twice = data(await api.gql(APPROVE, {"id": change["id"]}))["approveChange"]
    assert (twice["__typename"], twice["code"]) == ("ConflictError", "change_already_decided")
    rejected = data(await api.gql(REJECT, {"id": change["uuid"]}))["rejectChange"]
    assert rejected["code"] == "change_already_decided"
    assert await counts(api) == before


PROJECT_RAID_PAGE = """query($q: String!, $first: Int!) {
  projects(filter: {q: $q}, first: $first, sort: "name") { nodes {
    key openRiskCount
    risks(first: 2) { nodes { title score } pageInfo { hasNextPage endCursor } }
    openRisks: risks(first: 5, status: [OPEN, MITIGATING]) { nodes { status } }
    issues(first: 5) { nodes { title } }
    changes(first: 5) { nodes { title status } }
  } } }"""


async def test_project_raid_fields_cost_a_fixed_number_of_statements(api: Api) -> None:
    token = uuid.uuid4().hex[:12]
    portfolio = await api.make_portfolio()
    projects = [
        await api.make_project(portfolio["id"], name=f"Raid {token} {i:02}") for i in range(50)
    ]
    for i, project in enumerate(projects[:12]):
        path = f"/api/v1/projects/{project['id']}"
        for title, p, status in (
            ("low", 1, "open"),
            ("mid", 3, "mitigating"),
            ("top", 5, "closed"),
        ):
            await ok(
                await api.post(
                    f"{path}/risks",
                    json={"title": title, "probability": p, "impact": 2, "status": status},
                ),
                201,
            )
        if i % 2 == 0:
            await ok(await api.post(f"{path}/issues", json={"title": f"issue {i}"}), 201)
            await ok(await api.post(f"{path}/changes", json={"title": f"change {i}"}), 201)

    # SQLite counts its BEGIN; PostgreSQL's is not a statement of the cursor.
    begin = 1 if api.backend == "sqlite" else 0
    # authenticate + projects (open risk counts counted in it) + two risk pages + issues
    # + changes
    expected = begin + 6
    for first in (10, 50):
        with api.count_statements() as counter:
            body = await api.gql(PROJECT_RAID_PAGE, {"q": token, "first": first})
        nodes = data(body)["projects"]["nodes"]
        assert len(nodes) == first
        assert counter.count == expected, counter.statements
        first_project = nodes[0]
        assert first_project["openRiskCount"] == 2
        assert [r["title"] for r in first_project["risks"]["nodes"]] == ["top", "mid"]
        assert first_project["risks"]["pageInfo"]["hasNextPage"] is True
        assert sorted(r["status"] for r in first_project["openRisks"]["nodes"]) == [
            "MITIGATING",
            "OPEN",
        ]
        assert first_project["issues"]["nodes"] == [{"title": "issue 0"}]
        assert first_project["changes"]["nodes"] == [{"title": "change 0", "status": "PROPOSED"}]
        assert nodes[1]["issues"]["nodes"] == []
        assert all(n["openRiskCount"] == 2 for n in nodes[:12])
        for bare in nodes[12:]:
            assert bare["openRiskCount"] == 0 and bare["risks"]["nodes"] == []

    # A nested cursor continues that project's walk.
    cursor = nodes[0]["risks"]["pageInfo"]["endCursor"]
    rest = data(
        await api.gql(
            """query($id: String!, $after: String) { project(idOrKey: $id) {
               risks(first: 2, after: $after) { nodes { title } pageInfo { hasNextPage } } } }""",
            {"id": nodes[0]["key"], "after": cursor},
        )
    )["project"]["risks"]
    assert rest == {"nodes": [{"title": "low"}], "pageInfo": {"hasNextPage": False}}


async def test_archived_records_leave_counts_and_nested_lists(api: Api) -> None:
    project = await managed_project(api)
    risk = await ok(
        await api.post(
            f"/api/v1/projects/{project['id']}/risks",
            json={"title": "r", "probability": 2, "impact": 2},
        ),
        201,
    )
    query = """query($id: String!) { project(idOrKey: $id) { openRiskCount
        risks { nodes { uuid } } } }"""
    shown = data(await api.gql(query, {"id": project["key"]}))["project"]
    assert shown == {"openRiskCount": 1, "risks": {"nodes": [{"uuid": risk["id"]}]}}
    await ok(await api.delete(f"/api/v1/risks/{risk['id']}"))
    hidden = data(await api.gql(query, {"id": project["key"]}))["project"]
    assert hidden == {"openRiskCount": 0, "risks": {"nodes": []}}


async def test_decision_replays_with_the_same_idempotency_key(api: Api) -> None:
    project = await managed_project(api, planned_budget=10)
    change = await propose(api, project, budget_impact=5)
    path = f"/api/v1/changes/{change['id']}/approve"
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    first = await api.post(path, "pmo", json={"note": "go"}, headers=headers)
    assert first.status_code == 200, first.text
    before = await counts(api)
    again = await api.post(path, "pmo", json={"note": "go"}, headers=headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await counts(api) == before
    assert (await ok(await api.get(f"/api/v1/projects/{project['id']}")))["planned_budget"] == 15
    node = data(
        await api.gql(
            "query($id: ID!) { node(id: $id) { ... on ChangeRequest { status } } }",
            {"id": gid("ChangeRequest", change["id"])},
        )
    )
    assert node["node"] == {"status": "APPROVED"}


async def test_concurrent_decisions_apply_a_change_once(api: Api) -> None:
    project = await managed_project(api, planned_budget=1000, planned_end="2027-05-31")
    changes = [await propose(api, project, budget_impact=100, schedule_impact_days=1)]
    changes.append(await propose(api, project, budget_impact=10))
    # Two approvals and a rejection of one change race; another change's approval
    # races with them on the same project row.
    first, second, third, other = await asyncio.gather(
        api.post(f"/api/v1/changes/{changes[0]['id']}/approve", "pmo"),
        api.post(f"/api/v1/changes/{changes[0]['id']}/approve", "admin"),
        api.post(f"/api/v1/changes/{changes[0]['id']}/reject", "pmo"),
        api.post(f"/api/v1/changes/{changes[1]['id']}/approve", "pmo"),
    )
    statuses = sorted(r.status_code for r in (first, second, third))
    assert statuses == [200, 409, 409], [r.text for r in (first, second, third)]
    assert other.status_code == 200, other.text
    winner = next(r for r in (first, second, third) if r.status_code == 200).json()
    final = await ok(await api.get(f"/api/v1/projects/{project['id']}"))
    if winner["status"] == "approved":
        assert (final["planned_budget"], final["planned_end"]) == (1110.0, "2027-06-01")
    else:
        assert (final["planned_budget"], final["planned_end"]) == (1010.0, "2027-05-31")
    updates = [e for e in await audit(api, project["id"]) if e["action"] == "project.updated"]
    assert len(updates) == (2 if winner["status"] == "approved" else 1)
