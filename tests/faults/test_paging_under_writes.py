"""Paging through 10,000 projects while others are inserted, updated and archived:
every row that existed unchanged throughout the walk is seen exactly once, and no
unchanged row twice, on several sort orders (ties included) and a filtered list."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BACKENDS
from tests.faults.harness import (
    PROJECTS,
    Client,
    Ledger,
    Load,
    Service,
    assert_clean,
    fresh_database,
    load_figures,
    record_figures,
    seed_projects,
    serving,
)

pytestmark = pytest.mark.slow

SEEDED = 10_000
PAGE = 200
# (sort, filters): keys are unique; priority, budget and name repeat, so pages end
# inside runs of ties; updated_at moves a row when it is written.
WALKS: list[tuple[str, dict[str, str]]] = [
    ("key", {}),
    ("-priority_score", {}),
    ("name", {}),
    ("updated_at", {}),
    ("-planned_budget", {"status": "active"}),
]


async def _walk(client: Client, sort: str, filters: dict[str, str]) -> dict[str, Any]:
    seen: Counter[str] = Counter()
    pages, cursor, started = 0, None, time.monotonic()
    while True:
        params: dict[str, Any] = {"limit": PAGE, "sort": sort, **filters}
        if cursor:
            params["cursor"] = cursor
        call = await client.send("GET", PROJECTS, params=params)
        assert call.status == 200, (sort, call.status, call.error)
        body = call.json()
        seen.update(item["id"] for item in body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    return {"seen": seen, "pages": pages, "seconds": time.monotonic() - started}


async def _mutate_seeded(
    client: Client,
    rows: list[dict[str, Any]],
    touched: set[str],
    archived: set[str],
    stop: asyncio.Event,
    seed: int,
    counts: Counter[str],
) -> None:
    """Update (moving rows in the name, priority and updated_at orders) and archive
    seeded projects; every row a write was sent for counts as changed."""
    rng = random.Random(seed)
    for n in itertools.count():
        if stop.is_set():
            break
        row_id = str(rng.choice(rows)["id"])
        if row_id in archived:
            continue
        touched.add(row_id)  # before sending: a write may land even if unanswered
        if n % 4 == 3:  # one write in four archives
            archived.add(row_id)
            call = await client.send("DELETE", f"{PROJECTS}/{row_id}")
            counts["archive" if call.status == 200 else f"archive_{call.status}"] += 1
        else:
            patch = {"name": f"renamed {rng.randrange(1000)}", "priority_score": rng.randrange(101)}
            call = await client.send("PATCH", f"{PROJECTS}/{row_id}", json_body=patch)
            counts["update" if call.status == 200 else f"update_{call.status}"] += 1
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_paging_10000_projects_while_others_change(backend: str, tmp_path: Path) -> None:
    async with fresh_database(backend, tmp_path) as database:
        service = Service(database.url, tmp_path)
        await service.run_cli("migrate")
        seeded_at = time.monotonic()
        portfolio_id, rows = await seed_projects(database, SEEDED, seed=5)
        seed_seconds = time.monotonic() - seeded_at
        async with (
            serving(service),
            Client(service.base_url) as client,
            Client(service.base_url) as walker,
        ):
            ledger = Ledger(client.tag)
            load = Load(client, ledger, portfolio_id, seed=6, mix=(0.5, 0.35, 0.1))
            touched: set[str] = set()
            archived: set[str] = set()
            counts: Counter[str] = Counter()
            stop = asyncio.Event()
            async with load.running(2):
                mutators = [
                    asyncio.create_task(
                        _mutate_seeded(client, rows, touched, archived, stop, n, counts)
                    )
                    for n in range(2)
                ]
                await asyncio.sleep(0.5)
                walks = await asyncio.gather(*(_walk(walker, s, f) for s, f in WALKS))
                stop.set()
                await asyncio.gather(*mutators)
            verified = await ledger.verify(client, database)

            unchanged = {str(r["id"]): r for r in rows if str(r["id"]) not in touched}
            # Rows the load created and then changed may move, like the touched ones;
            # those it left at version 1 must not repeat any more than untouched rows.
            moved = touched | {
                t.id
                for t in ledger.projects.values()
                if t.id is not None and t.state is not None and t.state["version"] > 1
            }
            results = {}
            problems = []
            for (sort, filters), walk in zip(WALKS, walks, strict=True):
                expected = {
                    row_id
                    for row_id, row in unchanged.items()
                    if all(row[k] == v for k, v in filters.items())
                }
                seen: Counter[str] = walk["seen"]
                missing = expected - set(seen)
                repeated = {i for i, n in seen.items() if n > 1 and i not in moved}
                label = sort + "".join(f"&{k}={v}" for k, v in filters.items())
                results[label] = {
                    "pages": walk["pages"],
                    "rows": sum(seen.values()),
                    "expected": len(expected),
                    "missing": len(missing),
                    "repeated": len(repeated),
                    "s": round(walk["seconds"], 2),
                }
                if missing or repeated:
                    problems.append(
                        f"{label}: missing {sorted(missing)[:5]} repeated {sorted(repeated)[:5]}"
                    )
            seeded_ids = {str(r["id"]) for r in rows}
            figures = {
                "backend": backend,
                "seeded": SEEDED,
                "seed_s": seed_seconds,
                "seeded_rows_changed": len(touched & seeded_ids),
                "seeded_writes": dict(counts),
                "walks": results,
                "missing": sum(r["missing"] for r in results.values()),
                "repeated": sum(r["repeated"] for r in results.values()),
                "write_max_s": max(c.latency for c in client.calls if c.is_write),
                **load_figures(client, verified),
            }
            record_figures(f"paging_under_writes[{backend}]", figures)

            assert not problems, problems
            assert counts["update"] >= 10 and counts["archive"] >= 3, counts
            assert all(r["expected"] > 1000 for r in results.values()), results
            assert_clean(verified, client, walker)
            # A write may be refused with a 503 (SQLite busy); client.violations already
            # holds any 503 without Retry-After. Anything else is unexpected.
            unexpected = [k for k in counts if "_" in k and not k.endswith("_503")]
            assert not unexpected, counts
