"""SQLite with 20 concurrent writers on two server processes sharing one file: no 500
("database is locked" is a wait, at worst a 503 with Retry-After), WAL mode on, and
nothing acknowledged lost."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from tests.faults.harness import (
    Client,
    Ledger,
    Load,
    Service,
    assert_clean,
    fresh_database,
    load_figures,
    make_portfolio,
    record_figures,
    serving,
)

pytestmark = pytest.mark.slow

WRITERS = 20
SECONDS = 12


def _journal_mode(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        connection.close()


async def test_sqlite_twenty_concurrent_writers_two_processes(tmp_path: Path) -> None:
    async with fresh_database("sqlite", tmp_path) as database:
        service = Service(database.url, tmp_path, workers=2)
        async with serving(service), Client(service.base_url) as client:
            workers = service.worker_pids()
            portfolio = await make_portfolio(client)
            ledger = Ledger(client.tag)
            # Writes only (creates, updates, archives): 20 clients contend for the lock.
            load = Load(client, ledger, portfolio["id"], seed=7, mix=(0.4, 0.55, 0.05), pause=0)
            async with load.running(WRITERS):
                await asyncio.sleep(SECONDS)
            verified = await ledger.verify(client, database)
            journal = await asyncio.to_thread(_journal_mode, database.sqlite_path)
            writes = [c for c in client.calls if c.is_write and not c.deliberate]
            figures = {
                "backend": "sqlite",
                "server_processes": len(workers),
                "writers": WRITERS,
                "journal_mode": journal,
                "writes": len(writes),
                "write_p99_s": sorted(c.latency for c in writes)[int(len(writes) * 0.99)],
                "write_max_s": max(c.latency for c in writes),
                **load_figures(client, verified),
            }
            record_figures("sqlite_20_writers[sqlite]", figures)

            assert len(workers) == 2, workers
            assert journal == "wal", journal
            assert_clean(verified, client)
            assert verified["acked_writes"] > 200, figures
