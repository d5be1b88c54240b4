"""Rules every project control record shares: an archived record no longer changes, a
list's cursor belongs to its project, and a representation derived from the date is
never answered with a 304."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Api
from tests.test_rest_conventions import assert_problem


def day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


async def created(api: Api, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(path, json=body)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


# -- archived records ------------------------------------------------------------------------


UPDATE_MILESTONE = """mutation($id: ID!, $input: UpdateMilestoneInput!) {
  updateMilestone(id: $id, input: $input) { __typename ... on Error { code } } }"""
UPDATE_DELIVERABLE = """mutation($id: ID!, $input: UpdateDeliverableInput!) {
  updateDeliverable(id: $id, input: $input) { __typename ... on Error { code } } }"""
UPDATE_STATUS_REPORT = """mutation($id: ID!, $input: UpdateStatusReportInput!) {
  updateStatusReport(id: $id, input: $input) { __typename ... on Error { code } } }"""


async def test_archived_schedule_records_and_reports_no_longer_change(api: Api) -> None:
    project = await api.make_project()
    base = f"/api/v1/projects/{project['id']}"
    milestone = await created(api, f"{base}/milestones", {"name": "M", "due_date": day(30)})
    deliverable = await created(api, f"{base}/deliverables", {"name": "D", "due_date": day(30)})
    report = await created(
        api,
        f"{base}/status-reports",
        {"period_start": "2027-01-01", "period_end": "2027-01-31", "overall_health": "green"},
    )
    cases = [
        ("milestone", f"/api/v1/milestones/{milestone['id']}", {"name": "Renamed"}),
        ("deliverable", f"/api/v1/deliverables/{deliverable['id']}", {"status": "accepted"}),
        ("status_report", f"/api/v1/status-reports/{report['id']}", {"summary": "Changed"}),
    ]
    for _, path, _ in cases:
        assert (await api.delete(path)).status_code == 200
    before = await api.table_counts()
    for entity, path, patch in cases:
        archived = (await api.get(path)).json()
        assert_problem(await api.patch(path, json=patch), 409, f"{entity}_archived")
        assert (await api.get(path)).json() == archived
    gql_cases = [
        (UPDATE_MILESTONE, "updateMilestone", milestone, {"name": "Renamed"}),
        (UPDATE_DELIVERABLE, "updateDeliverable", deliverable, {"status": "ACCEPTED"}),
        (UPDATE_STATUS_REPORT, "updateStatusReport", report, {"summary": "Changed"}),
    ]
    for (query, field, row, patch), (entity, _, _) in zip(gql_cases, cases, strict=True):
        body = await api.gql(query, {"id": row["id"], "input": patch})
        assert body["data"][field] == {"__typename": "ConflictError", "code": f"{entity}_archived"}
    assert await api.table_counts() == before


# -- cursors are bound to their project --------------------------------------------------------


async def _person(api: Api) -> str:
    return str((await api.make_person())["id"])


def _bodies(person_id: str) -> dict[str, Callable[[int], dict[str, Any]]]:
    """A valid new record of each list, the ``i``-th of a project."""
    return {
        "milestones": lambda i: {"name": f"M{i}", "due_date": day(10 + i)},
        "deliverables": lambda i: {"name": f"D{i}", "due_date": day(10 + i)},
        "baselines": lambda i: {"name": f"B{i}"},
        "risks": lambda i: {"title": f"R{i}", "probability": 1 + i, "impact": 2},
        "issues": lambda i: {"title": f"I{i}"},
        "changes": lambda i: {"title": f"C{i}"},
        "costs": lambda i: {
            "incurred_on": day(-10 + i),
            "amount": 100 + i,
            "category": "labour",
            "description": f"cost {i}",
        },
        "assignments": lambda i: {
            "person_id": person_id,
            "role": f"role {i}",
            "allocation_percent": 10,
            "start_date": day(i),
            "end_date": day(30 + i),
        },
        "assumptions": lambda i: {"title": f"A{i}", "validate_by": day(10 + i)},
    }


LISTS = list(_bodies("").keys())


async def _filled(api: Api, plural: str, person_id: str) -> dict[str, Any]:
    project = await api.make_project()
    path = f"/api/v1/projects/{project['id']}/{plural}"
    for i in range(3):
        await created(api, path, _bodies(person_id)[plural](i))
    return project


@pytest.mark.parametrize("plural", LISTS)
async def test_a_cursor_of_one_project_is_refused_on_another(api: Api, plural: str) -> None:
    person_id = await _person(api)
    project, other = await _filled(api, plural, person_id), await _filled(api, plural, person_id)
    path = f"/api/v1/projects/{project['id']}/{plural}"
    first = (await api.get(path, params={"limit": 1})).json()
    assert first["next_cursor"]
    foreign = await api.get(
        f"/api/v1/projects/{other['id']}/{plural}",
        params={"limit": 1, "cursor": first["next_cursor"]},
    )
    assert_problem(foreign, 422, "cursor_mismatch")
    # On its own project the walk goes on, without skipping or repeating a row.
    walked = [item["id"] for item in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (await api.get(path, params={"limit": 1, "cursor": cursor})).json()
        walked += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    everything = (await api.get(path)).json()["items"]
    assert walked == [item["id"] for item in everything] and len(walked) == 3


@pytest.mark.parametrize("plural", LISTS)
async def test_a_record_and_a_page_are_read_in_a_fixed_number_of_statements(
    api: Api, plural: str
) -> None:
    """Rows, outside the ORM: a GET is the key look-up and the record's row; a list the
    key, the project and the page, whatever its size."""
    project = await _filled(api, plural, await _person(api))
    path = f"/api/v1/projects/{project['key']}/{plural}"
    items = (await api.get(path)).json()["items"]
    with api.count_statements() as counter:
        assert (await api.get(f"/api/v1/{plural}/{items[0]['id']}")).status_code == 200
    assert counter.count == 2, counter.statements
    for limit in (1, 3):
        with api.count_statements() as counter:
            assert (await api.get(path, params={"limit": limit})).status_code == 200
        assert counter.count == 3, counter.statements


def _nested(plural: str) -> str:
    return (
        "query($key: String!, $after: String) { project(idOrKey: $key) { "
        f"{plural}(first: 1, after: $after) "
        "{ nodes { uuid } pageInfo { hasNextPage endCursor } } } }"
    )


@pytest.mark.parametrize("plural", LISTS)
async def test_a_nested_connection_cursor_belongs_to_its_project(api: Api, plural: str) -> None:
    person_id = await _person(api)
    project, other = await _filled(api, plural, person_id), await _filled(api, plural, person_id)
    first = await api.gql(_nested(plural), {"key": project["key"]})
    page = first["data"]["project"][plural]
    assert page["pageInfo"]["hasNextPage"] is True
    cursor = page["pageInfo"]["endCursor"]

    foreign = await api.gql(_nested(plural), {"key": other["key"], "after": cursor})
    assert [e["extensions"]["code"] for e in foreign["errors"]] == ["cursor_mismatch"]

    # The cursor continues the project's own connection and its REST list alike.
    more = await api.gql(_nested(plural), {"key": project["key"], "after": cursor})
    assert "errors" not in more, more
    second = more["data"]["project"][plural]["nodes"]
    listed = await api.get(
        f"/api/v1/projects/{project['id']}/{plural}", params={"limit": 1, "cursor": cursor}
    )
    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["items"]] == [n["uuid"] for n in second]
    everything = (await api.get(f"/api/v1/projects/{project['id']}/{plural}")).json()["items"]
    assert [page["nodes"][0]["uuid"], second[0]["uuid"]] == [i["id"] for i in everything[:2]]


async def test_a_rest_cursor_continues_the_nested_connection(api: Api) -> None:
    project = await _filled(api, "milestones", "")
    listed = (
        await api.get(f"/api/v1/projects/{project['id']}/milestones", params={"limit": 1})
    ).json()
    more = await api.gql(
        _nested("milestones"), {"key": project["key"], "after": listed["next_cursor"]}
    )
    assert "errors" not in more, more
    assert len(more["data"]["project"]["milestones"]["nodes"]) == 1


# -- time-derived representations ------------------------------------------------------------


async def test_a_milestone_is_never_answered_not_modified(api: Api) -> None:
    project = await api.make_project()
    milestone = await created(
        api, f"/api/v1/projects/{project['id']}/milestones", {"name": "M", "due_date": day(1)}
    )
    path = f"/api/v1/milestones/{milestone['id']}"
    # overdue turns true at midnight without a new version: a 304 could serve it stale.
    again = await api.get(path, headers={"If-None-Match": '"1"'})
    assert again.status_code == 200
    assert again.json() == milestone and again.headers["etag"] == '"1"'
    # The ETag is still the version a write is checked against.
    stale = await api.patch(path, json={"name": "X"}, headers={"If-Match": '"2"'})
    assert stale.status_code == 412
    # Records without such fields still answer 304.
    project_path = f"/api/v1/projects/{project['id']}"
    etag = (await api.get(project_path)).headers["etag"]
    assert (await api.get(project_path, headers={"If-None-Match": etag})).status_code == 304
    deliverable = await created(
        api, f"/api/v1/projects/{project['id']}/deliverables", {"name": "D", "due_date": day(1)}
    )
    got = await api.get(
        f"/api/v1/deliverables/{deliverable['id']}", headers={"If-None-Match": '"1"'}
    )
    assert got.status_code == 304


# -- dates "today" wherever the caller is ------------------------------------------------------


async def test_tomorrow_utc_is_today_somewhere(api: Api) -> None:
    project = await api.make_project()
    base = f"/api/v1/projects/{project['id']}"
    done = {"name": "M", "due_date": day(-3), "status": "done"}
    milestone = await created(api, f"{base}/milestones", {**done, "done_date": day(1)})
    assert milestone["done_date"] == day(1)
    risk_body = {"title": "R", "probability": 2, "impact": 2}
    risk = await created(api, f"{base}/risks", {**risk_body, "last_reviewed_on": day(1)})
    assert risk["last_reviewed_on"] == day(1)

    before = await api.table_counts()
    assert_problem(
        await api.post(f"{base}/milestones", json={**done, "done_date": day(2)}),
        422,
        "done_date_in_future",
    )
    assert_problem(
        await api.patch(f"/api/v1/milestones/{milestone['id']}", json={"done_date": day(2)}),
        422,
        "done_date_in_future",
    )
    assert_problem(
        await api.post(f"{base}/risks", json={**risk_body, "last_reviewed_on": day(2)}),
        422,
        "review_in_future",
    )
    assert_problem(
        await api.patch(f"/api/v1/risks/{risk['id']}", json={"last_reviewed_on": day(2)}),
        422,
        "review_in_future",
    )
    assert await api.table_counts() == before


# -- ranges and dates out of order -------------------------------------------------------------


async def test_ranges_and_dates_out_of_order_answer_like_their_siblings(api: Api) -> None:
    project = await api.make_project()
    base = f"/api/v1/projects/{project['id']}"
    await created(api, f"{base}/milestones", {"name": "M", "due_date": day(5)})
    for path, window in (
        (f"{base}/milestones", {"due_from": day(10), "due_to": day(1)}),
        (f"{base}/costs", {"incurred_from": day(10), "incurred_to": day(1)}),
        (f"{base}/status-reports", {"period_from": day(10), "period_to": day(1)}),
    ):
        # A rule between two values no schema states: its own code, as on the writes.
        assert_problem(await api.get(path, params=window), 422, "dates_out_of_order")
    same_day = await api.get(f"{base}/milestones", params={"due_from": day(5), "due_to": day(5)})
    assert len(same_day.json()["items"]) == 1

    person_id = await _person(api)
    before = await api.table_counts()
    backwards_assignment = {
        "person_id": person_id,
        "role": "Analyst",
        "allocation_percent": 50,
        "start_date": "2027-03-01",
        "end_date": "2027-02-01",
    }
    backwards_report = {
        "period_start": "2027-03-01",
        "period_end": "2027-02-01",
        "overall_health": "green",
    }
    for plural, body in (
        ("assignments", backwards_assignment),
        ("status-reports", backwards_report),
    ):
        assert_problem(await api.post(f"{base}/{plural}", json=body), 422, "dates_out_of_order")
    # The same code on an unknown project's list as on a known one: the body is refused.
    assert_problem(
        await api.post(f"/api/v1/projects/{uuid.uuid4()}/assignments", json=backwards_assignment),
        422,
        "dates_out_of_order",
    )
    assert await api.table_counts() == before
