"""PostgreSQL taken away under a mixed read/write load: the network cut for 10 s
(a TCP proxy the test controls), and server-side connections killed with
``pg_terminate_backend``. Only 503 problem+json with Retry-After meanwhile, quick
recovery, and nothing acknowledged lost or duplicated."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import BACKENDS, POSTGRES_URL
from tests.faults.harness import (
    Client,
    Database,
    Ledger,
    Load,
    Service,
    assert_clean,
    fresh_database,
    load_figures,
    make_portfolio,
    record_figures,
    serving,
    terminate_backends,
)
from tests.tcp_proxy import TcpProxy

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL not in PMO_TEST_BACKENDS"),
]

WORKERS = 8
OUTAGE_SECONDS = 10
# Fail fast: 2 s to connect or to get a pooled connection, a small pool.
DB_SETTINGS = {"PMO_DB_TIMEOUT_SECONDS": "2", "PMO_DB_POOL_SIZE": "5"}


async def _monitor(client: Client, stop: asyncio.Event) -> None:
    """/readyz and /healthz, five times a second."""
    while not stop.is_set():
        await asyncio.gather(client.send("GET", "/readyz"), client.send("GET", "/healthz"))
        await asyncio.sleep(0.2)


async def test_database_cut_for_ten_seconds_under_load(tmp_path: Path) -> None:
    target = urlsplit(POSTGRES_URL)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    async with fresh_database("postgresql", tmp_path) as database:
        await proxy.start()
        try:
            service = Service(
                database.via_port(proxy.port), tmp_path, migrate=True, env=DB_SETTINGS
            )
            async with (
                serving(service),
                Client(service.base_url) as client,
                Client(service.base_url) as monitor,
            ):
                await _cut_under_load(proxy, database, client, monitor)
        finally:
            await proxy.cut()


async def _cut_under_load(
    proxy: TcpProxy, database: Database, client: Client, monitor: Client
) -> None:
    portfolio = await make_portfolio(client)
    ledger = Ledger(client.tag)
    load = Load(client, ledger, portfolio["id"], seed=1)
    stop_monitor = asyncio.Event()
    watching = asyncio.create_task(_monitor(monitor, stop_monitor))
    try:
        async with load.running(WORKERS):
            await asyncio.sleep(4)
            await proxy.cut()
            cut_at = time.monotonic()
            await asyncio.sleep(OUTAGE_SECONDS)
            await proxy.start()
            restored_at = time.monotonic()
            # A client that retries every 100 ms from the moment PostgreSQL is back.
            probe = load.new_tracked(worker=99)
            assert await load.create(probe, interval=0.1)
            await asyncio.sleep(6)
    finally:
        stop_monitor.set()
        await watching
    verified = await ledger.verify(client, database)

    outage = [*client.between(cut_at, restored_at), *monitor.between(cut_at, restored_at)]
    api_outage = [c for c in outage if c.path.startswith("/api/") and not c.deliberate]
    readyz = [c for c in monitor.calls if c.path == "/readyz" and c.started >= cut_at]
    first_503 = next((c for c in readyz if c.status == 503), None)
    healthz = [c for c in outage if c.path == "/healthz"]
    recovery = client.first_write_success_after(restored_at)
    figures = {
        "faults": 1,
        "outage_s": round(restored_at - cut_at, 2),
        "outage_api_requests": len(api_outage),
        "outage_statuses": client.statuses(api_outage),
        "outage_max_latency_s": max((c.latency for c in outage), default=0.0),
        "readyz_503_after_s": first_503.ended - cut_at if first_503 else None,
        "healthz_during_outage": client.statuses(healthz),
        "recovery_s": recovery,
        **load_figures(client, verified),
    }
    record_figures("database_cut_10s[postgresql]", figures)

    assert_clean(verified, client, monitor)
    assert api_outage and all(c.status == 503 for c in api_outage), figures
    assert figures["outage_max_latency_s"] < 5, figures
    assert first_503 is not None and first_503.ended - cut_at < 5, figures
    assert healthz and all(c.status == 200 for c in healthz), figures
    assert recovery is not None and recovery < 10, figures
    assert verified["acked_writes"] > 50, figures


async def test_connections_killed_server_side_under_load(tmp_path: Path) -> None:
    async with fresh_database("postgresql", tmp_path) as database:
        service = Service(database.url, tmp_path, migrate=True, env=DB_SETTINGS)
        async with serving(service), Client(service.base_url) as client:
            portfolio = await make_portfolio(client)
            ledger = Ledger(client.tag)
            load = Load(client, ledger, portfolio["id"], seed=2)
            killed: list[int] = []
            kill_times: list[float] = []
            async with load.running(WORKERS):
                await asyncio.sleep(3)
                for _ in range(5):
                    killed.append(await terminate_backends(database))
                    kill_times.append(time.monotonic())
                    await asyncio.sleep(2.5)
            verified = await ledger.verify(client, database)
            recoveries = [client.first_write_success_after(t) for t in kill_times]
            figures = {
                "faults": len(killed),
                "backends_killed": sum(killed),
                "recovery_max_s": max((r for r in recoveries if r is not None), default=None),
                **load_figures(client, verified),
            }
            record_figures("backends_terminated[postgresql]", figures)

            assert_clean(verified, client)
            assert all(k > 0 for k in killed), killed
            assert all(r is not None and r < 10 for r in recoveries), recoveries
            assert verified["acked_writes"] > 50, figures
