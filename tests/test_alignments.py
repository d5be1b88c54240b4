"""Alignments (``alignment/``): a project's contribution (0-3) to each strategic
objective, kept under the project (``/api/v1/projects/{id}/alignments``) through REST
and GraphQL on both databases: one live alignment per objective, the project's object
rules, refusals that write nothing, the audit trail."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Api, new_key
from tests.test_raid import audit, data, gid, managed_project, ok
from tests.test_rest_conventions import assert_problem


async def _objective(api: Api, weight: int = 10) -> dict[str, Any]:
    body = {
        "key": new_key("OB"),
        "title": "Grow recurring revenue",
        "weight": weight,
        "period_start": "2027-01-01",
        "period_end": "2027-12-31",
    }
    return await ok(await api.post("/api/v1/objectives", json=body), 201)


async def test_a_project_is_aligned_with_objectives(api: Api) -> None:
    project = await managed_project(api)
    revenue, cost = await _objective(api, 30), await _objective(api, 10)
    path = f"/api/v1/projects/{project['id']}/alignments"
    made = await ok(
        await api.post(
            path,
            "manager",
            json={"objective_id": revenue["id"], "contribution": 3, "note": "The core of it."},
        ),
        201,
    )
    assert (made["project_id"], made["objective_id"], made["contribution"]) == (
        project["id"],
        revenue["id"],
        3,
    )
    await ok(await api.post(path, json={"objective_id": cost["id"], "contribution": 1}), 201)
    listed = await ok(await api.get(path, "viewer"))
    assert [(i["objective_id"], i["contribution"]) for i in listed["items"]] == [
        (revenue["id"], 3),
        (cost["id"], 1),
    ]
    strong = await ok(await api.get(path, params={"min_contribution": 2}))
    assert [i["id"] for i in strong["items"]] == [made["id"]]

    # One live alignment per objective; refusals write nothing.
    other = await api.make_project()
    before = await api.table_counts()
    again = await api.post(path, json={"objective_id": revenue["id"], "contribution": 1})
    assert_problem(again, 409, "already_aligned")
    for bad, code in (
        ({"objective_id": revenue["id"], "contribution": 4}, None),
        ({"objective_id": revenue["id"], "contribution": -1}, None),
        ({"objective_id": str(uuid.uuid4()), "contribution": 1}, "objective_not_found"),
        ({"contribution": 1}, None),
    ):
        assert_problem(await api.post(path, json=bad), 422, code)
    viewer = await api.post(path, "viewer", json={"objective_id": cost["id"], "contribution": 1})
    assert_problem(viewer, 403)
    elsewhere = f"/api/v1/projects/{other['id']}/alignments"
    refused = await api.post(
        elsewhere, "manager", json={"objective_id": cost["id"], "contribution": 1}
    )
    assert_problem(refused, 403)
    assert await api.table_counts() == before

    one = f"/api/v1/alignments/{made['id']}"
    changed = await ok(await api.patch(one, "manager", json={"contribution": 2}))
    assert changed["contribution"] == 2 and changed["version"] == 2
    assert_problem(await api.patch(one, json={"objective_id": cost["id"]}), 422)
    await ok(await api.delete(one))
    # Archived, the objective takes a new alignment.
    await ok(await api.post(path, json={"objective_id": revenue["id"], "contribution": 2}), 201)
    assert [e["action"] for e in await audit(api, made["id"])] == [
        "alignment.created",
        "alignment.updated",
        "alignment.archived",
    ]


async def test_alignments_over_graphql(api: Api) -> None:
    project = await api.make_project()
    objective = await _objective(api)
    body = await api.gql(
        """mutation($p: ID!, $o: ID!) { createAlignment(projectId: $p,
             input: {objectiveId: $o, contribution: 2}) {
             __typename ... on AlignmentPayload {
               alignment { contribution objective { key } } } } }""",
        {"p": project["id"], "o": objective["id"]},
    )
    assert data(body)["createAlignment"]["alignment"] == {
        "contribution": 2,
        "objective": {"key": objective["key"]},
    }
    body = await api.gql(
        """query($id: String!) { project(idOrKey: $id) {
             alignments { nodes { contribution objective { title } } } } }""",
        {"id": gid("Project", project["id"])},
    )
    assert data(body)["project"]["alignments"]["nodes"] == [
        {"contribution": 2, "objective": {"title": "Grow recurring revenue"}}
    ]
