"""GET /metrics: requests by route template and status, latency histograms, the database
pools; and the settings that protect it or switch it off."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pmo_api import telemetry
from pmo_api.db.reads import FairGate
from tests.conftest import Api, start_api
from tests.test_rest_conventions import assert_problem

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(http: httpx.AsyncClient, **headers: str) -> Samples:
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


async def test_requests_are_counted_by_route_template_and_status(api: Api) -> None:
    project = await api.make_project()
    missing = str(uuid.uuid4())
    before = await scrape(api.http)
    assert (await api.get(f"/api/v1/projects/{project['id']}")).status_code == 200
    assert (await api.get(f"/api/v1/projects/{project['id']}")).status_code == 200
    assert (await api.get(f"/api/v1/projects/{missing}")).status_code == 404
    assert (await api.http.get(f"/nowhere/{missing}")).status_code == 404
    response = await api.http.get("/metrics")
    after = parse(response.text)

    def counted(**labels: str) -> float:
        name = "pmo_http_requests_total"
        return value(after, name, **labels) - value(before, name, **labels)

    one = {"route": "/api/v1/projects/{id}", "method": "GET"}
    assert counted(**one, status="200") == 2
    assert counted(**one, status="404") == 1
    assert counted(route="unmatched", method="GET", status="404") == 1
    # The scrape before this one is counted too, under its own route.
    assert counted(route="/metrics", method="GET", status="200") == 1
    # Templates only, never what a client sent: no id, no unknown path in any label.
    assert project["id"] not in response.text and missing not in response.text
    assert "/nowhere" not in response.text

    seconds = "pmo_http_request_duration_seconds"
    assert value(after, f"{seconds}_count", **one) - value(before, f"{seconds}_count", **one) == 3
    assert value(after, f"{seconds}_sum", **one) > value(before, f"{seconds}_sum", **one)
    buckets = sorted(
        (float(dict(labels)["le"]), count)
        for (name, labels), count in after.items()
        if name == f"{seconds}_bucket" and {("route", one["route"]), ("method", "GET")} <= labels
    )
    assert [le for le, _ in buckets][-1] == float("inf") and len(buckets) == 14
    counts = [count for _, count in buckets]
    assert counts == sorted(counts)  # cumulative
    assert counts[-1] == value(after, f"{seconds}_count", **one)


async def test_the_database_pools_are_reported(api: Api) -> None:
    state = api.app.state.pmo
    samples = await scrape(api.http)
    assert value(samples, "pmo_db_pool_size", pool="engine") == state.engine.pool.size()
    assert ("pmo_db_pool_checked_out", frozenset({("pool", "engine")})) in samples
    assert ("pmo_db_pool_overflow", frozenset({("pool", "engine")})) in samples
    if api.backend == "postgresql":  # the reads' own connections, beside the engine's
        assert value(samples, "pmo_db_pool_size", pool="reads") == state.settings.db_pool_size

    # The figures are the pools' own at the moment of the scrape.
    async with state.engine.connect() as connection:
        held = await scrape(api.http)
        assert value(held, "pmo_db_pool_checked_out", pool="engine") >= 1
        await connection.close()
    released = await scrape(api.http)
    assert value(released, "pmo_db_pool_checked_out", pool="engine") < value(
        held, "pmo_db_pool_checked_out", pool="engine"
    )


async def test_the_reads_gate_tells_who_holds_and_who_waits() -> None:
    gate = FairGate(2)
    assert (gate.size, gate.held, gate.waiting) == (2, 0, 0)
    assert gate.try_acquire() and gate.try_acquire()
    waiter = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    assert (gate.held, gate.waiting) == (2, 1)
    gate.release()  # the place goes to the waiter
    await waiter
    assert (gate.held, gate.waiting) == (2, 0)
    gate.release()
    gate.release()
    assert gate.held == 0


async def test_a_failing_or_slow_scrape_hook_leaves_the_rest_of_the_metrics(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(_state: telemetry.Scraped) -> None:
        raise RuntimeError("the backlog query failed")

    async def stuck(_state: telemetry.Scraped) -> None:
        await asyncio.Event().wait()

    ran: list[telemetry.Scraped] = []

    async def fine(state: telemetry.Scraped) -> None:
        ran.append(state)
        telemetry.OUTBOX_BACKLOG.set(7)

    monkeypatch.setattr(telemetry, "before_scrape", [broken, stuck, fine])
    monkeypatch.setattr(telemetry, "HOOK_TIMEOUT_SECONDS", 0.05)
    with caplog.at_level(logging.WARNING, logger="pmo_api.telemetry"):
        samples = await scrape(api.http)
    assert ran == [api.app.state.pmo]
    assert value(samples, "pmo_outbox_backlog") == 7
    assert ("pmo_db_pool_size", frozenset({("pool", "engine")})) in samples
    failed = [r for r in caplog.records if r.getMessage() == "a metrics hook failed"]
    assert [r.hook.rsplit(".", 1)[-1] for r in failed] == ["broken", "stuck"]  # type: ignore[attr-defined]


async def test_metrics_can_require_a_token_or_be_switched_off(tmp_path: Path) -> None:
    token = "metrics-token-0123456789"
    protected, stop = await start_api("sqlite", tmp_path, metrics_token=token)
    try:
        for headers in ({}, {"Authorization": f"Bearer {token}x"}, {"Authorization": token}):
            refused = await protected.http.get("/metrics", headers=headers)
            assert_problem(refused, 401, "invalid_credentials")
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert token not in refused.text
        # An API key is not the token: the metrics are the scraper's, not the API's.
        keyed = await protected.http.get("/metrics", headers=protected.headers())
        assert keyed.status_code == 401
        samples = await scrape(protected.http, Authorization=f"Bearer {token}")
        assert ("pmo_db_pool_size", frozenset({("pool", "engine")})) in samples
    finally:
        await stop()

    switched_off, stop = await start_api("sqlite", tmp_path, metrics_enabled=False)
    try:
        assert_problem(await switched_off.http.get("/metrics"), 404, "not_found")
    finally:
        await stop()


async def test_metrics_stay_out_of_the_openapi_document(api: Api) -> None:
    document = (await api.http.get("/openapi.json")).json()
    assert "/metrics" not in document["paths"]


def test_several_processes_forget_the_live_gauges_of_a_dead_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed (and replaced by uvicorn) never says it stopped: its pool figures
    are dropped at the next scrape, its counts kept."""
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    assert finished.wait(timeout=30) == 0
    dead, alive = finished.pid, os.getpid()
    names = [
        f"gauge_livesum_{dead}.db",
        f"gauge_livesum_{alive}.db",
        f"counter_{dead}.db",
        f"histogram_{dead}.db",
        f"gauge_mostrecent_{dead}.db",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setenv(telemetry.MULTIPROCESS_DIRECTORY, str(tmp_path))
    telemetry._forget_dead_processes()
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(names[1:])
