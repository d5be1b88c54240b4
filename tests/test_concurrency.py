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
