"""``pmo-api serve --workers 2`` on one PostgreSQL database: concurrent writes and reads
through both processes, nothing lost, one /metrics reporting both, a clean stop."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_KEY
from tests.faults.harness import API, PROJECTS, Service, fresh_database, record_figures
from tests.test_telemetry import Samples, parse, value

pytestmark = pytest.mark.slow

WORKERS = 2
POOL_SIZE = 4
CREATES = 50


class LoggingService(Service):
    """The service with its access log on (INFO): each line names its process."""

    def _env(self) -> dict[str, str]:
        return {**super()._env(), "PMO_LOG_LEVEL": "INFO"}


def access_lines(service: Service) -> list[dict[str, Any]]:
    lines = []
    for line in service.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "pmo_api.access":
                lines.append(entry)
    return lines


def answering(service: Service) -> set[int]:
    """The processes that answered a request for a project."""
    return {
        line["pid"]
        for line in access_lines(service)
        if line["path"].startswith(PROJECTS) and line["status"] in (200, 201)
    }


async def scrape(http: httpx.AsyncClient) -> Samples:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    return parse(response.text)


async def every_worker_reporting(http: httpx.AsyncClient, limit_s: float = 30) -> Samples:
    """A scrape once each worker has put its pools in (the size adds up over the live
    processes); uvicorn answers /readyz as soon as the first worker is up."""
    deadline = time.monotonic() + limit_s
    while True:
        samples = await scrape(http)
        if value(samples, "pmo_db_pool_size", pool="engine") == WORKERS * POOL_SIZE:
            return samples
        assert time.monotonic() < deadline, samples
        await asyncio.sleep(0.2)


async def test_two_workers_share_one_postgresql_and_one_metrics(tmp_path: Path) -> None:
    temporary = tmp_path / "tmp"  # where serve makes its metrics directory
    temporary.mkdir()
    async with fresh_database("postgresql", tmp_path) as database:
        service = LoggingService(
            database.url,
            tmp_path,
            workers=WORKERS,
            migrate=True,
            env={"PMO_DB_POOL_SIZE": str(POOL_SIZE), "TMPDIR": str(temporary)},
        )
        await service.start()
        try:
            workers = service.worker_pids()
            assert len(workers) == WORKERS, workers
            assert len(list(temporary.glob("pmo-api-metrics-*"))) == 1
            # A fresh connection per request: the workers take turns accepting them.
            async with httpx.AsyncClient(
                base_url=service.base_url,
                headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                timeout=30,
                limits=httpx.Limits(max_keepalive_connections=0),
            ) as http:
                started = await every_worker_reporting(http)
                assert value(started, "pmo_db_pool_size", pool="reads") == WORKERS * POOL_SIZE
                portfolio = await http.post(
                    f"{API}/portfolios", json={"key": "PF-WORKERS", "name": "Two workers"}
                )
                assert portfolio.status_code == 201, portfolio.text

                keys = [f"W-{uuid.uuid4().hex[:8].upper()}" for _ in range(CREATES)]
                created = await asyncio.gather(
                    *(
                        http.post(
                            PROJECTS,
                            json={
                                "key": key,
                                "name": f"Project {key}",
                                "portfolio_id": portfolio.json()["id"],
                            },
                        )
                        for key in keys
                    )
                )
                assert [r.status_code for r in created] == [201] * CREATES, [
                    r.text for r in created if r.status_code != 201
                ]
                ids = [r.json()["id"] for r in created]
                read = await asyncio.gather(*(http.get(f"{PROJECTS}/{id_}") for id_ in ids))
                assert [r.status_code for r in read] == [200] * CREATES
                assert [r.json()["key"] for r in read] == keys
                listed = await http.get(
                    PROJECTS, params={"portfolio_id": portfolio.json()["id"], "limit": 100}
                )
                assert listed.status_code == 200, listed.text
                assert sorted(p["key"] for p in listed.json()["items"]) == sorted(keys)

                # Whichever worker answers the scrape, it counts every worker's requests.
                for _ in range(4):
                    samples = await scrape(http)
                    created_count = value(
                        samples,
                        "pmo_http_requests_total",
                        route="/api/v1/projects",
                        method="POST",
                        status="201",
                    )
                    read_count = value(
                        samples,
                        "pmo_http_requests_total",
                        route="/api/v1/projects/{id}",
                        method="GET",
                        status="200",
                    )
                    assert (created_count, read_count) == (CREATES, CREATES)
                    latency = value(
                        samples,
                        "pmo_http_request_duration_seconds_count",
                        route="/api/v1/projects",
                        method="POST",
                    )
                    assert latency == CREATES

                # Each access line names the process that answered it: both answered.
                # (The kernel hands each new connection to either worker; should one
                # have taken them all, more reads give the other its turn.)
                answered = answering(service)
                for _ in range(10):
                    if len(answered) == WORKERS:
                        break
                    reads = await asyncio.gather(*(http.get(f"{PROJECTS}/{i}") for i in ids))
                    assert {r.status_code for r in reads} == {200}
                    answered = answering(service)
        finally:
            code = await service.stop()
        log = service.log_path.read_text(errors="replace")
        record_figures(
            "two_workers_one_postgresql",
            {"workers": len(workers), "answering": len(answered), "creates": CREATES},
        )
        assert answered == set(workers), (answered, workers)
        assert code == 0, service.log_tail()
        assert "Traceback" not in log and '"level":"error"' not in log, service.log_tail()
        assert log.count('"pmo-api stopped"') == WORKERS
        assert list(temporary.glob("pmo-api-metrics-*")) == []  # removed on stop
