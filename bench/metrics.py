"""The executive metrics at the scale of a large company: 100,000 projects (1,000,000
risks, 500,000 milestones, about 350,000 submitted status reports and 260,000 cost
entries, baselines, 10 objectives and their alignments), a portfolio tree three levels
deep, on PostgreSQL and SQLite.

    make bench-metrics                                   # what this runs
    .venv/bin/python bench/metrics.py                    # seeds both, then measures
    .venv/bin/python bench/metrics.py --skip-seed        # the databases already seeded
    .venv/bin/python bench/metrics.py --projects 20000 --requests 10

Each route is asked ``--requests`` times one after another (after 10 warm-up requests)
by one client on a fresh `pmo-api serve` pinned to CPU 0: median and p99 latency (the
p99 of a few dozen requests is their slowest or close to it). The server's resident
memory is sampled every 50 ms: idle (after start and one request of each kind), and
its peak while the whole NDJSON export of every project streams to a client that reads
it line by line and counts the projects. Targets (PostgreSQL, 2 cores, 100,000
projects): portfolio metrics over the whole tree and the organisation summary under
250 ms median; the export's peak memory no more than 50 MB above the idle process.

Results: bench/results/metrics-<UTC stamp>/summary.md and raw.json.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import run as harness
import seed as seeder

DB = "pmo_api_metrics"
ROUTES = [
    ("portfolio metrics (whole tree)", "/api/v1/metrics/portfolios/PF-001"),
    ("organisation summary", "/api/v1/metrics/summary"),
    ("ranking (whole tree)", "/api/v1/portfolios/PF-001/ranking"),
]
EXPORT = "/api/v1/exports/projects?format=ndjson"
WARM_UP = 10
"""Requests before the measured ones: each of the pool's connections (10) prepares the
route's statements on its first use."""
TARGET_MS = 250.0
TARGET_EXPORT_MB = 50.0


def _get(port: int, path: str) -> tuple[int, bytes, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        t0 = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Bearer {harness.API_KEY}"})
        response = conn.getresponse()
        body = response.read()
        return response.status, body, (time.perf_counter() - t0) * 1000
    finally:
        conn.close()


def _export(port: int) -> tuple[int, int, float]:
    """The export read line by line as a script reads it: (status, lines, seconds)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        t0 = time.perf_counter()
        conn.request("GET", EXPORT, headers={"Authorization": f"Bearer {harness.API_KEY}"})
        response = conn.getresponse()
        lines = 0
        while line := response.readline():
            if line.strip():
                json.loads(line)
                lines += 1
        return response.status, lines, time.perf_counter() - t0
    finally:
        conn.close()


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def measure(
    name: str, database_url: str, results: Path, requests: int, projects: int
) -> dict[str, Any]:
    server = harness.pmo_server(database_url, results / "logs" / f"{name}.log")
    out: dict[str, Any] = {"backend": name, "routes": {}}
    with server.running():
        for _label, path in ROUTES:
            status, body, _ = _get(server.port, path)
            if status != 200:
                raise SystemExit(f"{name} {path}: {status} {body[:300]!r}")
        idle = harness.rss_mb(server.pid)
        for label, path in ROUTES:
            for _ in range(WARM_UP):
                _get(server.port, path)
            times = [_get(server.port, path)[2] for _ in range(requests)]
            out["routes"][label] = {
                "path": path,
                "median_ms": statistics.median(times),
                "p99_ms": _p99(times),
                "samples": times,
            }
            harness.say(f"  {name} {label}: median {statistics.median(times):.1f} ms")
        idle = max(idle, harness.rss_mb(server.pid))
        time.sleep(1)
        idle = harness.rss_mb(server.pid)
        with harness.RssSampler(server.pid, every=0.05) as sampler:
            status, lines, seconds = _export(server.port)
        if status != 200 or lines != projects:
            raise SystemExit(f"{name} export: status {status}, {lines} of {projects} projects")
        out["export"] = {
            "path": EXPORT,
            "lines": lines,
            "seconds": seconds,
            "idle_mb": idle,
            "peak_mb": sampler.peak,
            "above_idle_mb": sampler.peak - idle,
        }
        harness.say(
            f"  {name} export: {lines} projects in {seconds:.1f} s, peak "
            f"{sampler.peak:.0f} MB ({sampler.peak - idle:+.0f} MB over idle {idle:.0f} MB)"
        )
    return out


def summary(found: list[dict[str, Any]], projects: int, requests: int) -> str:
    lines = [
        f"# Executive metrics at {projects:,} projects",
        "",
        f"One client, {requests} requests per route after 10 warm-up requests, a fresh "
        "`pmo-api serve` pinned to CPU 0 per database.",
        "",
        "| database | route | median ms | p99 ms | target |",
        "|---|---|---|---|---|",
    ]
    for backend in found:
        for label, figures in backend["routes"].items():
            target = (
                "< 250 ms median"
                if "ranking" not in label and backend["backend"] == "postgresql"
                else ""
            )
            lines.append(
                f"| {backend['backend']} | {label} | {figures['median_ms']:.1f} | "
                f"{figures['p99_ms']:.1f} | {target} |"
            )
    lines += [
        "",
        "| database | NDJSON export | seconds | idle MB | peak MB | above idle MB | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend in found:
        e = backend["export"]
        lines.append(
            f"| {backend['backend']} | {e['lines']:,} projects | {e['seconds']:.1f} | "
            f"{e['idle_mb']:.0f} | {e['peak_mb']:.0f} | {e['above_idle_mb']:.0f} | "
            f"{'<= 50 MB' if backend['backend'] == 'postgresql' else ''} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--projects", type=int, default=seeder.SCALES["large"])
    ap.add_argument("--requests", type=int, default=30, help="requests per route")
    ap.add_argument("--skip-seed", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--db", default=DB, help=f"PostgreSQL database (default {DB})")
    a = ap.parse_args()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    results = harness.BENCH / "results" / f"metrics-{stamp}"
    results.mkdir(parents=True, exist_ok=True)
    sqlite_path = (harness.BENCH / "results" / "work" / f"{DB}-{a.projects}.db").resolve()
    seed = [sys.executable, str(harness.BENCH / "seed.py"), "--metrics", "--projects",
            str(a.projects)]  # fmt: skip
    targets = [("postgresql", f"postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/{a.db}")]
    if not a.no_sqlite:
        targets.append(("sqlite", f"sqlite+aiosqlite:///{sqlite_path}"))
    if not a.skip_seed:
        harness.say(f"seeding PostgreSQL {a.db} with {a.projects:,} projects")
        harness.run([*seed, "--db", a.db])
        if not a.no_sqlite:
            harness.say(f"seeding {sqlite_path}")
            harness.run([*seed, "--sqlite", str(sqlite_path)])
        for name, url in targets:
            # What a deployment's watch keeps: the verdicts a rollup's compliance reads.
            harness.say(f"the compliance watch's first look on {name}")
            env = harness.clean_env(PMO_DATABASE_URL=url, PMO_LOG_LEVEL="WARNING")
            harness.run([str(harness.PMO_API), "compliance", "watch"], env=env)
        # The look rewrote every project's row (its rules passed and failed): VACUUM as
        # autovacuum would soon after (this machine's PostgreSQL runs without it, for
        # steady benchmarks), so the rollups read the live projects' index alone.
        asyncio.run(harness._pg_exec(f"{harness.PG}/{a.db}", ["VACUUM (ANALYZE)"]))
    found = [measure(name, url, results, a.requests, a.projects) for name, url in targets]
    (results / "raw.json").write_text(json.dumps(found, indent=1))
    text = summary(found, a.projects, a.requests)
    (results / "summary.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
