"""50 concurrent POSTs with one Idempotency-Key make one record; the others replay it
(same body, ``Idempotent-Replayed: true``) or get 409 while it is in flight."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pmo_api.events.models import AuditEvent
from pmo_api.idempotency.models import IdempotencyRecord
from pmo_api.projects.models import Project
from tests.conftest import BACKENDS
from tests.faults.harness import (
    PROJECTS,
    Call,
    Client,
    Service,
    fresh_database,
    make_portfolio,
    record_figures,
    serving,
)

pytestmark = pytest.mark.slow

CONCURRENT = 50
ROUNDS = 3


@pytest.mark.parametrize("backend", BACKENDS)
async def test_fifty_concurrent_posts_with_one_key_make_one_record(
    backend: str, tmp_path: Path
) -> None:
    async with fresh_database(backend, tmp_path) as database:
        service = Service(database.url, tmp_path, migrate=backend == "postgresql")
        async with serving(service), Client(service.base_url) as client:
            portfolio = await make_portfolio(client)
            posts = created_rows = 0
            outcomes: dict[str, int] = {}
            for round_ in range(ROUNDS):
                key = f"race-{uuid.uuid4().hex}"
                body = {
                    "key": f"RACE-{uuid.uuid4().hex[:8].upper()}",
                    "name": f"Race {round_}",
                    "portfolio_id": portfolio["id"],
                }
                go = asyncio.Event()

                async def post(
                    body: dict[str, str] = body, key: str = key, go: asyncio.Event = go
                ) -> Call:
                    await go.wait()
                    return await client.send(
                        "POST", PROJECTS, json_body=body, headers={"Idempotency-Key": key}
                    )

                tasks = [asyncio.create_task(post()) for _ in range(CONCURRENT)]
                await asyncio.sleep(0.2)  # every request is waiting on the one event
                go.set()
                calls = await asyncio.gather(*tasks)
                posts += len(calls)

                for call in calls:
                    label = str(call.status)
                    if call.status == 201 and call.response is not None:
                        replayed = call.response.headers.get("idempotent-replayed") == "true"
                        label = "201_replayed" if replayed else "201_first"
                    elif call.status == 409:
                        label = f"409_{call.problem_code}"
                    outcomes[label] = outcomes.get(label, 0) + 1

                assert all(c.status is not None for c in calls), [c.error for c in calls]
                assert {c.status for c in calls} <= {201, 409}, client.statuses(calls)
                conflicts = [c for c in calls if c.status == 409]
                assert all(c.problem_code == "idempotency_in_flight" for c in conflicts)
                created = [c for c in calls if c.status == 201]
                first = [
                    c
                    for c in created
                    if c.response is not None and "idempotent-replayed" not in c.response.headers
                ]
                assert len(first) == 1, f"{len(first)} requests created a record"
                original = first[0]
                assert original.response is not None
                for replay in created:
                    assert replay.response is not None
                    assert replay.response.content == original.response.content
                    assert (
                        replay.response.headers["location"] == original.response.headers["location"]
                    )
                    assert replay.response.headers["etag"] == original.response.headers["etag"]
                    if replay is not original:
                        assert replay.response.headers["idempotent-replayed"] == "true"
                project_id = original.json()["id"]

                async with database.engine.connect() as connection:
                    rows = await connection.scalar(
                        select(func.count())
                        .select_from(Project)
                        .where(Project.name == body["name"])
                    )
                    records = await connection.scalar(
                        select(func.count())
                        .select_from(IdempotencyRecord)
                        .where(IdempotencyRecord.idempotency_key == key)
                    )
                    events = await connection.scalar(
                        select(func.count())
                        .select_from(AuditEvent)
                        .where(AuditEvent.action == "project.created")
                        .where(AuditEvent.entity_id == uuid.UUID(project_id))
                    )
                assert (rows, records, events) == (1, 1, 1)
                created_rows += rows or 0

            assert not client.violations, client.violations
            figures = {
                "backend": backend,
                "rounds": ROUNDS,
                "posts": posts,
                "created": created_rows,
                "outcomes": outcomes,
                "duplicates": created_rows - ROUNDS,
                "server_errors": len(client.violations),
            }
            record_figures(f"idempotency_race[{backend}]", figures)
