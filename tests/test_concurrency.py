"""Races: no lost updates, no duplicate records."""

from __future__ import annotations

import asyncio
import uuid

from tests.conftest import Api, new_key


async def test_two_updates_with_one_version_one_wins(api: Api) -> None:
    project = await api.make_project()
    path = f"/api/v1/projects/{project['id']}"
    for round_ in range(3):
        current = (await api.get(path)).json()
        etag = f'"{current["version"]}"'
        first, second = await asyncio.gather(
            api.patch(path, json={"name": f"A{round_}"}, headers={"If-Match": etag}),
            api.patch(path, json={"name": f"B{round_}"}, headers={"If-Match": etag}),
        )
        statuses = sorted([first.status_code, second.status_code])
        assert statuses == [200, 412], (first.text, second.text)
        winner = first if first.status_code == 200 else second
        final = (await api.get(path)).json()
        assert final["name"] == winner.json()["name"]
        assert final["version"] == current["version"] + 1


async def test_many_concurrent_writers_lose_nothing(api: Api) -> None:
    portfolio = await api.make_portfolio()
    keys = [new_key("CW") for _ in range(20)]
    responses = await asyncio.gather(
        *(
            api.post(
                "/api/v1/projects",
                json={"key": key, "name": "Concurrent", "portfolio_id": portfolio["id"]},
            )
            for key in keys
        )
    )
    assert [r.status_code for r in responses] == [201] * 20
    listed = await api.get(
        "/api/v1/projects", params={"portfolio_id": portfolio["id"], "limit": 50}
    )
    assert sorted(p["key"] for p in listed.json()["items"]) == sorted(keys)


async def test_concurrent_retries_with_one_idempotency_key_make_one_record(api: Api) -> None:
    portfolio = await api.make_portfolio()
    key = str(uuid.uuid4())
    body = {"key": new_key("IK"), "name": "Once only", "portfolio_id": portfolio["id"]}
    before = await api.table_counts()
    responses = await asyncio.gather(
        *(
            api.post("/api/v1/projects", json=body, headers={"Idempotency-Key": key})
            for _ in range(10)
        )
    )
    statuses = {r.status_code for r in responses}
    assert statuses <= {201, 409}, [r.text for r in responses]
    created = [r for r in responses if r.status_code == 201]
    assert created
    assert {r.json()["id"] for r in created} == {created[0].json()["id"]}
    after = await api.table_counts()
    assert after["projects"] == before["projects"] + 1
    assert after["idempotency_records"] == before["idempotency_records"] + 1


async def test_graphql_updates_that_lose_a_race_are_version_mismatches(api: Api) -> None:
    """The loser of a race is told so in GraphQL too (typed error), never a masked error."""
    project = await api.make_project()
    mutation = """mutation($id: ID!, $name: String!, $version: Int) {
      updateProject(id: $id, input: {name: $name}, expectedVersion: $version) {
        __typename ... on VersionMismatchError { code currentVersion }
        ... on ProjectPayload { project { name version } } } }"""
    for round_ in range(3):
        current = (await api.get(f"/api/v1/projects/{project['id']}")).json()
        bodies = await asyncio.gather(
            *(
                api.gql(
                    mutation,
                    {"id": project["id"], "name": f"R{round_}-{n}", "version": current["version"]},
                )
                for n in range(6)
            )
        )
        assert all("errors" not in body for body in bodies), bodies
        outcomes = [body["data"]["updateProject"] for body in bodies]
        winners = [o for o in outcomes if o["__typename"] == "ProjectPayload"]
        losers = [o for o in outcomes if o["__typename"] == "VersionMismatchError"]
        assert len(winners) == 1 and len(losers) == 5, outcomes
        assert {loser["code"] for loser in losers} == {"version_mismatch"}
        final = (await api.get(f"/api/v1/projects/{project['id']}")).json()
        assert final["name"] == winners[0]["project"]["name"]
        assert final["version"] == current["version"] + 1
