"""The compliance watch (``standards/watch.py``): a project turning non-compliant is a
``compliance.failed`` event, complying again ``compliance.passed``; a look that finds
nothing new records nothing; the server looks on its own clock. Both databases."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from pmo_api.core.context import SYSTEM, ServiceContext
from pmo_api.db.transaction import unit_of_work
from pmo_api.standards import watch
from tests.conftest import Api, new_key, start_api
from tests.test_raid import ok

POLICIES = "/api/v1/standards/policies"


async def _look(api: Api) -> tuple[int, int]:
    async with unit_of_work(api.app.state.pmo.sessions) as session:
        return await watch.look(ServiceContext(session, SYSTEM))


async def _policy(api: Api, case: str) -> dict[str, Any]:
    rule = {
        "code": "BASE",
        "title": "A baseline",
        "applies_when": {"attributes.case": {"eq": case}},
        "check": {"type": "baseline_present", "params": {}},
    }
    draft = await ok(
        await api.post(POLICIES, json={"key": new_key("PO"), "title": "W", "rules": [rule]}), 201
    )
    return await ok(await api.post(f"{POLICIES}/{draft['id']}/publish"))


async def _events(api: Api, project: dict[str, Any]) -> list[dict[str, Any]]:
    page = await ok(
        await api.get(
            "/api/v1/audit-events", params={"entity_id": project["id"], "sort": "occurred_at"}
        )
    )
    return [e for e in page["items"] if e["action"].startswith("compliance.")]


async def test_turning_non_compliant_and_back_are_events(api: Api) -> None:
    case = uuid.uuid4().hex[:12]
    policy = await _policy(api, case)
    project = await api.make_project(attributes={"case": case})
    fine = await api.make_project(attributes={"case": "elsewhere"})
    judged, recorded = await _look(api)
    assert judged >= 2 and recorded >= 1
    (failed,) = await _events(api, project)
    assert failed["action"] == "compliance.failed"
    assert failed["entity_type"] == "compliance"
    assert failed["changes"]["failing"]["after"] == [{"policy_key": policy["key"], "rule": "BASE"}]
    assert await _events(api, fine) == []
    # Nothing changed: nothing recorded.
    assert (await _look(api))[1] == 0
    assert len(await _events(api, project)) == 1
    # Complying again.
    await ok(await api.post(f"/api/v1/projects/{project['id']}/baselines", json={"name": "B"}), 201)
    await _look(api)
    events = await _events(api, project)
    assert [e["action"] for e in events] == ["compliance.failed", "compliance.passed"]
    listed = await ok(await api.get("/api/v1/audit-events", params={"action": "compliance.failed"}))
    assert failed["id"] in {e["id"] for e in listed["items"]}


async def test_the_server_watches_on_its_own(backend: str, tmp_path: Path) -> None:
    api, stop = await start_api(backend, tmp_path, compliance_watch_seconds=0.2)
    try:
        case = uuid.uuid4().hex[:12]
        await _policy(api, case)
        project = await api.make_project(attributes={"case": case})
        for _ in range(50):
            if await _events(api, project):
                break
            await asyncio.sleep(0.1)
        assert [e["action"] for e in await _events(api, project)] == ["compliance.failed"]
    finally:
        await stop()
