"""pmo-api side by side with the hand-tuned ceiling (../shared/bench), same data volume,
same load settings, alternating ceiling / pmo-api with a fresh server each round.

    make bench                                     # what this runs: the default below
    .venv/bin/python bench/run.py                  # 3 rounds, 10,000 projects, + SQLite
    .venv/bin/python bench/run.py --scale large    # 100,000 projects
    .venv/bin/python bench/run.py --profile-only   # py-spy on GET one and the list

Steps: seed both PostgreSQL databases and the SQLite file once (the ceiling with its
own setup_pg.sh and seed.py in its own virtualenv; pmo-api with bench/seed.py);
measure `pmo-api serve` time to ready; collect request data (ids, keyset cursors) from
pmo-api's seed; then ROUNDS x (ceiling, pmo-api), each a fresh server pinned to CPU 0
and loaded route after route by wrk pinned to CPU 1 (2 threads, 32 connections, 2 s
warm-up, 10 s measured); then the same routes on SQLite. The ceiling is loaded with
its own load.sh; pmo-api with bench/lua/pmo_api.lua and the same measurement (server
CPU from /proc, as load.sh computes it). Results go to bench/results/<stamp>/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import string
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyspy_summary
import seed as seeder

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CEILING_DIR = Path(os.environ.get("CEILING_DIR", ROOT.parent / "shared" / "bench")).resolve()
CEILING_VENV = Path(os.environ.get("BENCH_VENV", "/tmp/pmo-ceiling-venv"))
TOOLS_VENV = Path(os.environ.get("BENCH_TOOLS_VENV", "/tmp/pmo-bench-tools"))
PMO_API = ROOT / ".venv" / "bin" / "pmo-api"
LUA = BENCH / "lua" / "pmo_api.lua"
PG = "postgresql://postgres:postgres@127.0.0.1:5432"
CEILING_DB, PMO_DB = "pmo_bench", seeder.DEFAULT_DB
API_KEY = "pmo_bench_admin_key_4f2a9c1e"  # the bootstrap admin key of the bench servers
SERVER_CPU, LOAD_CPU = "0", "1"
POOL_SIZE = "10"
HZ = os.sysconf("SC_CLK_TCK")

# (row name, ceiling route, pmo-api route, what pmo-api's route is)
PAIRS = [
    ("get", "get", "get", "GET /api/v1/projects/{id}"),
    ("list", "list", "list", "GET /api/v1/projects?portfolio_id=…&limit=50[&cursor=…]"),
    ("rollup", "rollup", "rollup", "GET /api/v1/metrics/portfolios/{id}"),
    ("post", "post", "post", "POST /api/v1/projects (+ Idempotency-Key)"),
    ("graphql", "list", "graphql", "POST /graphql: 50 projects + portfolio, manager, open risks"),
    ("compliance", "get", "compliance", "GET /api/v1/projects/{id}/compliance (15 rules)"),
    ("findings", "list", "findings", "GET /api/v1/findings?status=open&overdue=true&limit=50"),
    ("hello", "hello", "healthz", "GET /healthz (framework floor)"),
]
PMO_ORDER = [
    "healthz",
    "get",
    "list",
    "rollup",
    "graphql",
    "compliance",
    "findings",
    "post",
]  # post last
SCOPES = ("organisation", "portfolio")
"""The compliance roll-ups, timed one request at a time (their target is a latency)."""
SCOPE_REQUESTS = 15
TIMED = ("lessons",)
"""What is timed one request at a time rather than loaded (``--routes``)."""
LESSON_SEARCHES = [
    ("two rarer words", "licence renewal"),
    ("a phrase", '"critical path"'),
    ("either word", "warranty or handover"),
    ("a word without another", "rollback -cutover"),
    ("the most common word", "vendor"),
]
"""The lessons searches timed one request at a time (``q=``): from words in about one
lesson in ten to a word in nearly every one of the 100,000."""
CEILING_ORDER = ["hello", "get", "list", "rollup", "post"]
ROLLUP_FIELDS = "project_count,by_health,budget,overdue_milestones,open_high_risks"
"""The rollup's figures the ceiling's rollup computes: pmo-api is asked for the same ones
(``fields``); its whole rollup at scale is ``bench/metrics.py``'s."""

GQL_FIELDS = "edges { node { key name openRiskCount portfolio { key } manager { name } } }"
GQL_PAGE = (
    "query ProjectsPage($pf: ID!, $after: String) { projects(first: 50, after: $after, "
    "filter: {portfolioId: $pf}) { " + GQL_FIELDS + " } }"
)
# Walking for cursors asks for no rows' fields: cursors depend on the filter and sort only.
GQL_WALK = GQL_PAGE.replace(GQL_FIELDS, "pageInfo { hasNextPage endCursor }")


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- /proc measurements, the same as ../shared/bench/load.sh -----------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(") ", 1)[1].split()  # fields from "state" on


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None and st[1] == str(pid):
                out.append(int(entry.name))
    return out


def tree_ticks(pid: int) -> int:
    """Own + reaped children's CPU ticks, plus live direct children's (load.sh's tree_ticks)."""
    st = _stat(pid)
    total = sum(int(x) for x in st[11:15]) if st else 0
    for child in _children(pid):
        cst = _stat(child)
        total += int(cst[11]) + int(cst[12]) if cst else 0
    return total


def postmaster_pid() -> int | None:
    """The oldest process named exactly "postgres" (load.sh: pgrep -o -x postgres)."""
    best: tuple[int, int] | None = None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        st = _stat(int(entry.name)) if comm == "postgres" else None
        if st is not None and (best is None or int(st[19]) < best[0]):
            best = (int(st[19]), int(entry.name))
    return best[1] if best else None


def host_ticks() -> tuple[int, int, int]:
    """(busy, steal, total) jiffies over all CPUs."""
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()
    v = [int(x) for x in cpu[1:]]
    busy = v[0] + v[1] + v[2] + v[5] + v[6]
    return busy, v[7], busy + v[3] + v[4] + v[7]


def rss_mb(pid: int) -> float:
    total = 0
    for p in [pid, *_children(pid)]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


class RssSampler:
    """Peak resident memory of a server (and its children) while a route is loaded."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid, self.every, self.peak = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb(self.pid))


# --- servers ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(port: int, path: str, timeout: float = 2.0) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMO_")}
    env.update(extra)
    return env


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    ready_path: str
    log: Path
    cwd: Path = ROOT
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 90) -> float:
        """Start pinned to SERVER_CPU; seconds from spawn until ready_path answers 200."""
        self.port = free_port()
        argv = [a.replace("{port}", str(self.port)) for a in self.argv]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            t0 = time.perf_counter()
            self.proc = subprocess.Popen(
                ["taskset", "-c", SERVER_CPU, *argv],
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if http_get(self.port, self.ready_path, timeout=1) == 200:
                    return time.perf_counter() - t0
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {timeout}s; see {self.log}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    @contextlib.contextmanager
    def running(self) -> Iterator[Server]:
        self.start()
        try:
            yield self
        finally:
            self.stop()


def ceiling_server(log: Path) -> Server:
    env = clean_env(PMO_BENCH_DSN=f"{PG}/{CEILING_DB}", PMO_POOL_SIZE=POOL_SIZE)
    argv = [str(CEILING_VENV / "bin" / "python"), "-m", "uvicorn", "limit_server:raw_app",
            "--host", "127.0.0.1", "--port", "{port}", "--loop", "uvloop", "--http",
            "httptools", "--no-access-log", "--log-level", "warning"]  # fmt: skip
    return Server("ceiling", argv, env, "/hello", log, cwd=CEILING_DIR)


def pmo_server(database_url: str, log: Path) -> Server:
    """`pmo-api serve`, one worker, with its defaults (INFO access log included), but the
    compliance watch: it judges every project every few minutes, a job a deployment
    gives one process (or `pmo-api compliance watch` on a schedule), not the one
    measured; and its states would hold on to the projects POST makes. The rate limits
    count every request as a deployment's do (in PostgreSQL; per process on SQLite),
    with budgets the load never meets: their cost is measured, never a 429."""
    env = clean_env(
        PMO_DATABASE_URL=database_url,
        PMO_BOOTSTRAP_ADMIN_KEY=API_KEY,
        PMO_DB_POOL_SIZE=POOL_SIZE,
        PMO_COMPLIANCE_WATCH_SECONDS="0",
        PMO_RATE_LIMIT_REST_REQUESTS="1000000000",
        PMO_RATE_LIMIT_GRAPHQL_COST="1000000000000",
        **{k: v for k, v in os.environ.items() if k.startswith("PMO_BENCH_SET_")},
    )
    for name in [k for k in env if k.startswith("PMO_BENCH_SET_")]:  # an experiment's settings
        env["PMO_" + name.removeprefix("PMO_BENCH_SET_")] = env.pop(name)
    argv = [str(PMO_API), "serve", "--host", "127.0.0.1", "--port", "{port}"]
    return Server("pmo-api", argv, env, "/readyz", log)


# --- targets: where pmo-api's data lives --------------------------------------------------


@dataclass
class Target:
    name: str  # "postgresql" | "sqlite"
    database_url: str
    data_dir: Path
    sqlite_path: Path | None = None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.sqlite_path is not None:
            with contextlib.closing(sqlite3.connect(self.sqlite_path, timeout=30)) as conn:
                rows = conn.execute(sql).fetchall()
                conn.commit()
                return rows
        return asyncio.run(_pg_fetch(f"{PG}/{PMO_DB}", sql))

    def cleanup_posts(self) -> None:
        """Remove what the POST route made (projects, their audit events, idempotency)."""
        stmts = [
            "DELETE FROM audit_events WHERE entity_type = 'project' AND entity_id IN "
            "(SELECT id FROM projects WHERE key LIKE 'LD%')",
            "DELETE FROM idempotency_records WHERE idempotency_key LIKE 'bench-%'",
            "DELETE FROM projects WHERE key LIKE 'LD%'",
        ]
        if self.sqlite_path is not None:
            with contextlib.closing(sqlite3.connect(self.sqlite_path, timeout=30)) as conn:
                for s in stmts:
                    conn.execute(s)
                conn.commit()
                conn.execute("ANALYZE")
        else:
            stmts.append("VACUUM ANALYZE projects, audit_events, idempotency_records")
            asyncio.run(_pg_exec(f"{PG}/{PMO_DB}", stmts))


async def _pg_fetch(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def _pg_exec(dsn: str, stmts: list[str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        for s in stmts:
            await conn.execute(s)
    finally:
        await conn.close()


def _uuid_text(value: Any) -> str:
    text = str(value)
    if len(text) == 32:  # SQLite stores UUIDs as 32 hex digits
        text = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


class Api:
    """A keep-alive client for preparing request data and checking routes."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {API_KEY}"}

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        h = {**self.headers, **headers}
        if data is not None:
            h["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=h)
        resp = self.conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw else None

    def close(self) -> None:
        self.conn.close()


def prepare(target: Target, results: Path, projects: int) -> None:
    """Write the files bench/lua/pmo_api.lua draws its requests from, and check every route
    once (status and shape) on a server of this target."""
    d = target.data_dir
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    project_ids = [_uuid_text(r[0]) for r in target.query("SELECT id FROM projects")]
    portfolios = [
        (_uuid_text(r[0]), int(r[1]))
        for r in target.query(
            "SELECT pf.id, count(p.id) FROM portfolios pf LEFT JOIN projects p "
            "ON p.portfolio_id = pf.id GROUP BY pf.id ORDER BY pf.key"
        )
    ]
    people = [
        _uuid_text(r[0])
        for r in target.query("SELECT id FROM people WHERE active AND archived_at IS NULL")
    ]
    (d / "get.txt").write_text("".join(f"/api/v1/projects/{i}\n" for i in project_ids))
    (d / "portfolios.txt").write_text("".join(f"{pf}\n" for pf, _ in portfolios))
    (d / "people.txt").write_text("".join(f"{p}\n" for p in people))
    (d / "rollup.txt").write_text(
        "".join(f"/api/v1/metrics/portfolios/{pf}?fields={ROLLUP_FIELDS}\n" for pf, _ in portfolios)
    )
    (d / "compliance.txt").write_text(
        "".join(f"/api/v1/projects/{i}/compliance\n" for i in project_ids)
    )
    largest = max(portfolios, key=lambda item: item[1])[0]
    (d / "scopes.txt").write_text(
        f"organisation /api/v1/compliance\nportfolio /api/v1/portfolios/{largest}/compliance\n"
    )
    (d / "lessons.txt").write_text(
        "".join(
            f"search: {name} /api/v1/lessons?limit=20&q={urllib.parse.quote(q)}\n"
            for name, q in LESSON_SEARCHES
        )
        + f"suggested /api/v1/projects/{project_ids[0]}/lessons/suggested\n"
    )
    server = pmo_server(target.database_url, results / "logs" / f"prepare-{target.name}.log")
    with server.running():
        api = Api(server.port)
        try:
            list_paths, bodies = [], []
            for pf, count in portfolios:
                # Pages start anywhere in the first 80 % of a portfolio, as the ceiling's
                # random `after` does; cursors come from walking the list as a client does.
                pages = max(1, min(40, int(0.8 * count / 50)))
                base = f"/api/v1/projects?portfolio_id={pf}&limit=50"
                cursor = None
                for _ in range(pages):
                    q = "" if cursor is None else "&cursor=" + urllib.parse.quote(cursor)
                    list_paths.append(base + q)
                    status, page = api.call("GET", base + q)
                    if status != 200 or len(page["items"]) != 50:
                        raise RuntimeError(f"list walk: {status} {str(page)[:300]}")
                    if "open_risk_count" not in page["items"][0]:
                        raise RuntimeError("list walk: the items carry no open_risk_count")
                    cursor = page["next_cursor"]
                    if cursor is None:
                        break
                after = None
                for _ in range(pages):
                    bodies.append({"query": GQL_PAGE, "variables": {"pf": pf, "after": after}})
                    walk = {"query": GQL_WALK, "variables": {"pf": pf, "after": after}}
                    status, res = api.call("POST", "/graphql", walk)
                    if status != 200 or "errors" in res:
                        raise RuntimeError(f"graphql walk: {status} {str(res)[:300]}")
                    info = res["data"]["projects"]["pageInfo"]
                    if not info["hasNextPage"]:
                        break
                    after = info["endCursor"]
            (d / "list.txt").write_text("".join(p + "\n" for p in list_paths))
            # Findings as a script pulls them: the open ones past due across every
            # audit, page after page with the cursors.
            finding_paths = []
            for base in ["/api/v1/findings?status=open&overdue=true&limit=50"]:
                cursor = None
                for _ in range(100):
                    q = "" if cursor is None else "&cursor=" + urllib.parse.quote(cursor)
                    status, page = api.call("GET", base + q)
                    if status != 200 or not page["items"]:
                        raise RuntimeError(f"findings walk: {status} {str(page)[:300]}")
                    finding_paths.append(base + q)
                    cursor = page["next_cursor"]
                    if cursor is None:
                        break
            (d / "findings.txt").write_text("".join(p + "\n" for p in finding_paths))
            (d / "graphql.txt").write_text(
                "".join(json.dumps(b, separators=(",", ":")) + "\n" for b in bodies)
            )
            _check_routes(api, project_ids, portfolios, people)
        finally:
            api.close()
    target.cleanup_posts()
    say(
        f"{target.name}: {len(project_ids)} projects, {len(list_paths)} list pages, "
        f"{len(bodies)} GraphQL pages, {len(people)} people"
    )


def _check_routes(
    api: Api, projects: list[str], portfolios: list[tuple[str, int]], people: list[str]
) -> None:
    """One request per route before loading it: wrk counts statuses, not wrong bodies."""
    status, body = api.call("GET", f"/api/v1/projects/{projects[0]}")
    assert status == 200 and body["id"] == projects[0], (status, body)
    pf, count = portfolios[0]
    status, body = api.call("GET", f"/api/v1/metrics/portfolios/{pf}?fields={ROLLUP_FIELDS}")
    assert status == 200 and body["project_count"] == count, (status, str(body)[:300])
    assert body["open_high_risks"] > 0 and body["overdue_milestones"] > 0, str(body)[:300]
    status, body = api.call("GET", f"/api/v1/projects/{projects[0]}/compliance")
    assert status == 200 and len(body["rules"]) == 15, (status, str(body)[:300])
    assert {r["outcome"] for r in body["rules"]} >= {"pass", "fail"}, str(body)[:300]
    status, body = api.call("GET", "/api/v1/compliance")
    assert status == 200 and body["project_count"] == len(projects), (status, str(body)[:300])
    status, body = api.call("POST", "/graphql", {"query": GQL_PAGE, "variables": {"pf": pf}})
    assert status == 200 and len(body["data"]["projects"]["edges"]) == 50, str(body)[:300]
    assert "errors" not in body, str(body)[:300]
    new = {"key": "LDCHECK-1", "name": "Bench check", "portfolio_id": pf, "manager_id": people[0]}
    status, body = api.call("POST", "/api/v1/projects", new, **{"Idempotency-Key": "bench-check"})
    assert status == 201, (status, body)
    assert http_get(api.conn.port, "/healthz") == 200


# --- load --------------------------------------------------------------------------------


@dataclass
class LoadSettings:
    duration: int = 10
    warmup: int = 2
    connections: int = 32
    threads: int = 2


def _tag() -> str:
    return "".join(random.choices(string.ascii_uppercase + string.digits, k=5))


def load_pmo(
    server: Server, route: str, label: str, target: Target, ls: LoadSettings
) -> dict[str, Any]:
    """bench/lua/pmo_api.lua under wrk, measured exactly as ../shared/bench/load.sh does."""

    def wrk(seconds: int) -> str:
        env = clean_env(
            ROUTE=route,
            LABEL=label,
            PMO_API_KEY=API_KEY,
            PMO_DATA_DIR=str(target.data_dir),
            RUN_TAG=_tag(),
        )
        cmd = ["taskset", "-c", LOAD_CPU, "wrk", f"-t{ls.threads}", f"-c{ls.connections}",
               f"-d{seconds}s", "-s", str(LUA), server.url]  # fmt: skip
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        return out.stdout

    with RssSampler(server.pid) as rss:
        if ls.warmup:
            wrk(ls.warmup)
        pm = postmaster_pid()
        s0, p0, h0 = tree_ticks(server.pid), tree_ticks(pm) if pm else 0, host_ticks()
        out = wrk(ls.duration)
        s1, p1, h1 = tree_ticks(server.pid), tree_ticks(pm) if pm else 0, host_ticks()
    line = next(x for x in out.splitlines() if x.startswith('{"label"'))
    result: dict[str, Any] = json.loads(line)
    n = max(result["requests"], 1)
    ht = max(h1[2] - h0[2], 1)
    result.update(
        server_cpu_s=round((s1 - s0) / HZ, 2),
        pg_cpu_s=round((p1 - p0) / HZ, 2),
        server_cpu_ms_per_req=round(1000 * (s1 - s0) / HZ / n, 4),
        pg_cpu_ms_per_req=round(1000 * (p1 - p0) / HZ / n, 4),
        host_busy_pct=round(100 * (h1[0] - h0[0]) / ht, 1),
        host_steal_pct=round(100 * (h1[1] - h0[1]) / ht, 1),
        rss_peak_mb=round(rss.peak, 1),
    )
    if route == "post":
        target.cleanup_posts()
    return result


def load_ceiling(server: Server, route: str, ls: LoadSettings, projects: int) -> dict[str, Any]:
    """The ceiling's own load.sh, one route, with SERVER_PID so it reports CPU per request."""
    env = clean_env(
        SERVER_PID=str(server.pid),
        LABEL="ceiling",
        DURATION=f"{ls.duration}s",
        WARMUP=f"{ls.warmup}s" if ls.warmup else "0",
        CONNECTIONS=str(ls.connections),
        THREADS=str(ls.threads),
        LOAD_CPU=LOAD_CPU,
        PMO_PROJECTS=str(projects),
        PMO_PORTFOLIOS=str(seeder.N_PORTFOLIOS),
        PMO_BENCH_DSN=f"{PG}/{CEILING_DB}",
    )
    with RssSampler(server.pid) as rss:
        out = subprocess.run(
            [str(CEILING_DIR / "load.sh"), server.url, route],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    line = next(x for x in out.splitlines() if x.startswith('{"label"'))
    result: dict[str, Any] = json.loads(line)
    result["rss_peak_mb"] = round(rss.peak, 1)
    return result


def errors_of(r: dict[str, Any]) -> int:
    keys = ("non2xx", "err_connect", "err_read", "err_write", "err_timeout")
    return sum(int(r.get(k, 0)) for k in keys)


def errors_text(recs: list[dict[str, Any]]) -> str:
    """Errors over all rounds, split: wrk counts a request over its 2 s timeout as one."""
    total = sum(errors_of(r) for r in recs)
    if not total:
        return "0"
    non2xx = sum(int(r.get("non2xx", 0)) for r in recs)
    timeouts = sum(int(r.get("err_timeout", 0)) for r in recs)
    parts = [f"{non2xx} non-2xx"] if non2xx else []
    parts += [f"{timeouts} timeouts"] if timeouts else []
    parts += [f"{total - non2xx - timeouts} socket"] if total - non2xx - timeouts else []
    return f"{total} ({', '.join(parts)})"


UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def scan_log(log: Path, keep: bool) -> dict[str, int]:
    """Non-2xx answers and error-level lines a server logged, by kind (pmo-api logs JSON:
    each request with its status; errors with the exception's last line); the full log is
    removed unless kept."""
    kinds: dict[str, int] = {}
    if not log.exists():
        return kinds
    sample = []
    with log.open(errors="replace") as f:
        for line in f:
            if '"status":4' in line or '"status":5' in line:  # access log: non-2xx answers
                with contextlib.suppress(ValueError, KeyError):
                    entry = json.loads(line)
                    path = UUID_RE.sub("{id}", entry["path"])
                    kind = f"HTTP {entry['status']} on {entry['method']} {path}"
                    kinds[kind] = kinds.get(kind, 0) + 1
            if '"level":"error"' in line or '"level":"critical"' in line or "Traceback" in line:
                kind = "traceback"
                with contextlib.suppress(ValueError, KeyError, IndexError):
                    entry = json.loads(line)
                    exc = entry.get("exc", "").strip().splitlines()
                    kind = entry["msg"] + (f": {exc[-1][:120]}" if exc else "")
                kinds[kind] = kinds.get(kind, 0) + 1
                if len(sample) < 20:
                    sample.append(line)
    if sample:
        log.with_suffix(".errors").write_text("".join(sample))
    if not keep:
        log.unlink()
    return kinds


# --- phases ------------------------------------------------------------------------------


def run(cmd: list[str], **kw: Any) -> None:
    subprocess.run(cmd, check=True, **kw)


def seed_all(scale: str, projects: int, sqlite_path: Path, with_sqlite: bool) -> None:
    if os.geteuid() == 0:
        run([str(CEILING_DIR / "setup_pg.sh")], stdout=subprocess.DEVNULL)
    else:
        say("not root: skipping setup_pg.sh (run it once as root)")
    if not (CEILING_VENV / "bin" / "python").exists():
        say(f"creating the ceiling's virtualenv {CEILING_VENV}")
        run([sys.executable, "-m", "venv", str(CEILING_VENV)])
        run([str(CEILING_VENV / "bin" / "pip"), "install", "-q", "-r",
             str(CEILING_DIR / "requirements.txt")])  # fmt: skip
    factor = projects // 10_000
    say(f"seeding the ceiling ({CEILING_DB}, {projects} projects)")
    run(
        [str(CEILING_VENV / "bin" / "python"), str(CEILING_DIR / "seed.py"),
         "--projects", str(projects), "--risks", str(100_000 * factor),
         "--milestones", str(50_000 * factor), "--status-reports", str(40_000 * factor)],
        env=clean_env(PMO_BENCH_DSN=f"{PG}/{CEILING_DB}"),
    )  # fmt: skip
    say(f"seeding pmo-api ({PMO_DB}, {projects} projects)")
    run([sys.executable, str(BENCH / "seed.py"), "--scale", scale, "--projects", str(projects)])
    if with_sqlite:
        say(f"seeding pmo-api on SQLite ({sqlite_path})")
        run([sys.executable, str(BENCH / "seed.py"), "--projects", str(projects),
             "--sqlite", str(sqlite_path)])  # fmt: skip


def measure_startup(targets: list[Target], results: Path, times: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for t in targets:
        for i in range(times):
            server = pmo_server(t.database_url, results / "logs" / f"startup-{t.name}-{i}.log")
            seconds = server.start()
            server.stop()
            out.setdefault(t.name, []).append(round(seconds, 3))
        say(f"startup to /readyz on {t.name}: {out[t.name]} s")
    return out


def time_scopes(
    server: Server, target: Target, listing: str = "scopes.txt", prefix: str = "compliance-"
) -> list[dict[str, Any]]:
    """The compliance roll-ups (the organisation's, the largest portfolio's), or the
    lessons searches (``lessons.txt``), one request at a time after one warm-up each:
    their targets are latencies."""
    api = Api(server.port)
    found = []
    try:
        for line in (target.data_dir / listing).read_text().splitlines():
            scope, path = line.rsplit(" ", 1)
            status, _ = api.call("GET", path)
            assert status == 200, (status, path)
            times = []
            for _ in range(SCOPE_REQUESTS):
                started = time.perf_counter()
                status, _ = api.call("GET", path)
                times.append(1000 * (time.perf_counter() - started))
                assert status == 200, (status, path)
            found.append(
                {
                    "route": f"{prefix}{scope}",
                    "requests": len(times),
                    "p50_ms": round(statistics.median(times), 1),
                    "min_ms": round(min(times), 1),
                    "max_ms": round(max(times), 1),
                }
            )
    finally:
        api.close()
    return found


def measured_rounds(
    a: argparse.Namespace,
    pg: Target,
    sqlite: Target | None,
    results: Path,
    projects: int,
    meta: dict[str, Any],
) -> list[dict[str, Any]]:
    ls = LoadSettings(a.duration, a.warmup, a.connections, a.threads)
    pairs = [p for p in PAIRS if p[0] in a.routes]
    pmo_routes = [r for r in PMO_ORDER if r in {p[2] for p in pairs}]
    ceiling_routes = [r for r in CEILING_ORDER if r in {p[1] for p in pairs}]
    raw = results / "raw.jsonl"
    records: list[dict[str, Any]] = []

    def keep(rec: dict[str, Any]) -> None:
        records.append(rec)
        with raw.open("a") as f:
            f.write(json.dumps(rec) + "\n")
        say(
            f"  {rec['side']:<14} {rec['route']:<8} {rec['rps']:>8.1f} req/s  "
            f"p50 {rec['p50_ms']:.2f} ms  p99 {rec['p99_ms']:.2f} ms  "
            f"cpu {rec.get('server_cpu_ms_per_req', 0):.3f} ms/req  "
            f"rss {rec['rss_peak_mb']:.0f} MB  errors {errors_of(rec)}"
        )

    def keep_latency(rec: dict[str, Any]) -> None:
        records.append(rec)
        with raw.open("a") as f:
            f.write(json.dumps(rec) + "\n")
        say(
            f"  {rec['side']:<14} {rec['database']:<10} {rec['route']:<44} p50 "
            f"{rec['p50_ms']:.1f} ms ({rec['min_ms']:.1f}-{rec['max_ms']:.1f})"
        )

    log_errors: dict[str, dict[str, int]] = meta.setdefault("server_log_errors", {})

    def note_log(side: str, kinds: dict[str, int]) -> None:
        for kind, n in kinds.items():
            log_errors.setdefault(side, {})[kind] = log_errors.get(side, {}).get(kind, 0) + n
            say(f"  {side} logged {n} x {kind}")

    for rnd in range(1, a.rounds + 1):
        for side in ("ceiling", "pmo-api"):
            log = results / "logs" / f"{side}-r{rnd}.log"
            server = ceiling_server(log) if side == "ceiling" else pmo_server(pg.database_url, log)
            say(f"round {rnd}/{a.rounds}: {side}")
            with server.running():
                for route in ceiling_routes if side == "ceiling" else pmo_routes:
                    if side == "ceiling":
                        rec = load_ceiling(server, route, ls, projects)
                    else:
                        rec = load_pmo(server, route, "pmo-api", pg, ls)
                    rec.update(side=side, round=rnd, database="postgresql")
                    keep(rec)
                if side == "pmo-api" and "compliance" in a.routes:
                    for rec in time_scopes(server, pg):
                        rec.update(side="pmo-api-scope", round=rnd, database="postgresql")
                        keep_latency(rec)
                if side == "pmo-api" and "lessons" in a.routes:
                    for rec in time_scopes(server, pg, "lessons.txt", "lessons-"):
                        rec.update(side="pmo-api-lessons", round=rnd, database="postgresql")
                        keep_latency(rec)
            note_log(side, scan_log(log, a.keep_logs))
    if sqlite is not None:
        for rnd in range(1, a.sqlite_rounds + 1):
            log = results / "logs" / f"sqlite-r{rnd}.log"
            say(f"SQLite round {rnd}/{a.sqlite_rounds}")
            with pmo_server(sqlite.database_url, log).running() as server:
                for route in pmo_routes:
                    rec = load_pmo(server, route, "pmo-api-sqlite", sqlite, ls)
                    rec.update(side="pmo-api-sqlite", round=rnd, database="sqlite")
                    keep(rec)
                if "lessons" in a.routes:
                    for rec in time_scopes(server, sqlite, "lessons.txt", "lessons-"):
                        rec.update(side="pmo-api-lessons", round=rnd, database="sqlite")
                        keep_latency(rec)
            note_log("pmo-api-sqlite", scan_log(log, a.keep_logs))
    return records


# --- summary -----------------------------------------------------------------------------


def _med(values: list[float]) -> tuple[float, float, float] | None:
    return (statistics.median(values), min(values), max(values)) if values else None


def _fmt(t: tuple[float, float, float] | None, nd: int = 0, unit: str = "") -> str:
    if t is None:
        return "-"
    m, lo, hi = t
    return f"{m:,.{nd}f}{unit} ({lo:,.{nd}f}-{hi:,.{nd}f})"


def summarize(records: list[dict[str, Any]], meta: dict[str, Any], routes: list[str]) -> str:
    by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        by.setdefault((r["side"], r["route"]), []).append(r)

    def vals(side: str, route: str, key: str) -> list[float]:
        return [float(r[key]) for r in by.get((side, route), []) if key in r]

    def ratio(pmo_route: str, ceil_route: str, key: str) -> tuple[float, float, float] | None:
        """pmo-api / ceiling per round (each pair measured minutes apart), then median."""
        c = {r["round"]: r[key] for r in by.get(("ceiling", ceil_route), [])}
        p = {r["round"]: r[key] for r in by.get(("pmo-api", pmo_route), [])}
        return _med([p[k] / c[k] for k in p if c.get(k)])

    pairs = [p for p in PAIRS if p[0] in routes]
    lines = [f"# pmo-api vs the ceiling — {meta['stamp']}", ""]
    lines += [
        f"Machine: {meta['nproc']} CPUs, {meta['cpu']}; PostgreSQL {meta['postgres']}; "
        f"Python {meta['python']}; wrk {meta['wrk']}. Scale: {meta['projects']:,} projects, "
        f"{seeder.N_PORTFOLIOS} portfolios. {meta['rounds']} rounds, alternating ceiling / "
        f"pmo-api, fresh server each; server on CPU {SERVER_CPU}, wrk on CPU {LOAD_CPU} "
        f"({meta['load']}). Load average at start {meta['loadavg_start']}, "
        f"end {meta.get('loadavg_end', '?')}. pmo-api commit {meta['commit']}; "
        f"{meta['packages']}.",
        "",
        "Figures: median (min-max) over rounds; ratio = pmo-api / ceiling within each round.",
        "",
        "## Throughput and latency (PostgreSQL)",
        "",
        "| route | pmo-api | ceiling | pmo-api req/s | ceiling req/s | ratio req/s "
        "| pmo-api p50 ms | ceiling p50 ms | pmo-api p99 ms | ceiling p99 ms | p99 ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, cr, pr, what in pairs:
        lines.append(
            f"| {name} | {what} | {cr} | {_fmt(_med(vals('pmo-api', pr, 'rps')))} "
            f"| {_fmt(_med(vals('ceiling', cr, 'rps')))} | {_fmt(ratio(pr, cr, 'rps'), 3)} "
            f"| {_fmt(_med(vals('pmo-api', pr, 'p50_ms')), 1)} "
            f"| {_fmt(_med(vals('ceiling', cr, 'p50_ms')), 1)} "
            f"| {_fmt(_med(vals('pmo-api', pr, 'p99_ms')), 1)} "
            f"| {_fmt(_med(vals('ceiling', cr, 'p99_ms')), 1)} "
            f"| {_fmt(ratio(pr, cr, 'p99_ms'), 1)} |"
        )
    lines += [
        "",
        "## CPU per request, memory, errors (PostgreSQL)",
        "",
        "| route | pmo-api server CPU ms/req | ceiling server CPU ms/req | CPU ratio "
        "| pmo-api PG CPU ms/req | ceiling PG CPU ms/req | pmo-api RSS peak MB "
        "| ceiling RSS peak MB | errors pmo-api / ceiling |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, cr, pr, _ in pairs:
        errs_p = errors_text(by.get(("pmo-api", pr), []))
        errs_c = errors_text(by.get(("ceiling", cr), []))
        lines.append(
            f"| {name} | {_fmt(_med(vals('pmo-api', pr, 'server_cpu_ms_per_req')), 3)} "
            f"| {_fmt(_med(vals('ceiling', cr, 'server_cpu_ms_per_req')), 3)} "
            f"| {_fmt(ratio(pr, cr, 'server_cpu_ms_per_req'), 1)} "
            f"| {_fmt(_med(vals('pmo-api', pr, 'pg_cpu_ms_per_req')), 3)} "
            f"| {_fmt(_med(vals('ceiling', cr, 'pg_cpu_ms_per_req')), 3)} "
            f"| {_fmt(_med(vals('pmo-api', pr, 'rss_peak_mb')))} "
            f"| {_fmt(_med(vals('ceiling', cr, 'rss_peak_mb')))} | {errs_p} / {errs_c} |"
        )
    scoped = [r for r in records if r["side"] == "pmo-api-scope"]
    if scoped:
        lines += [
            "",
            "## Compliance roll-ups (PostgreSQL, one request at a time)",
            "",
            f"{SCOPE_REQUESTS} sequential requests per round after one warm-up; the "
            "organisation's is every project against the 15 rules in force, the "
            "portfolio's the largest portfolio's.",
            "",
            "| roll-up | median of the rounds' p50 ms (min-max) |",
            "|---|---|",
        ]
        for scope in SCOPES:
            p50s = [r["p50_ms"] for r in scoped if r["route"] == f"compliance-{scope}"]
            lines.append(f"| {scope} | {_fmt(_med(p50s), 1)} |")
    timed = [r for r in records if r["side"] == "pmo-api-lessons"]
    if timed:
        lines += [
            "",
            "## Lessons search (one request at a time)",
            "",
            f"{SCOPE_REQUESTS} sequential requests per round after one warm-up, a page of 20;"
            " 100,000 lessons of about 200 words.",
            "",
            "| request | PostgreSQL p50 ms (min-max over rounds) | SQLite p50 ms |",
            "|---|---|---|",
        ]
        names = list(dict.fromkeys(r["route"] for r in timed))
        for name in names:
            cells = []
            for database in ("postgresql", "sqlite"):
                p50s = [
                    r["p50_ms"] for r in timed if r["route"] == name and r["database"] == database
                ]
                cells.append(_fmt(_med(p50s), 1) if p50s else "-")
            lines.append(f"| {name.removeprefix('lessons-')} | {cells[0]} | {cells[1]} |")
    peak_p = max(
        (r["rss_peak_mb"] for r in records if r["side"] == "pmo-api" and "rss_peak_mb" in r),
        default=0,
    )
    peak_c = max((r["rss_peak_mb"] for r in records if r["side"] == "ceiling"), default=0)
    lines += ["", f"Peak RSS under load: pmo-api {peak_p:.0f} MB, ceiling {peak_c:.0f} MB."]
    for side, kinds in meta.get("server_log_errors", {}).items():
        listed = "; ".join(f"{n} x {k}" for k, n in sorted(kinds.items(), key=lambda x: -x[1]))
        lines += ["", f"From the {side} server logs (non-2xx answers, errors): {listed}."]
    if meta.get("startup"):
        lines += ["", "## `pmo-api serve` start to /readyz 200", ""]
        for db, secs in meta["startup"].items():
            lines.append(f"- {db}: {_fmt(_med(secs), 2, ' s')} over {len(secs)} starts")
    if any(r["side"] == "pmo-api-sqlite" for r in records):
        lines += [
            "",
            "## SQLite (same 10,000-project seed in a file; no ceiling)"
            if meta["projects"] == 10_000
            else "## SQLite (no ceiling)",
            "",
            "| route | pmo-api path | req/s | p50 ms | p99 ms | server CPU ms/req | RSS peak MB "
            "| errors |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, _, pr, what in pairs:
            s = "pmo-api-sqlite"
            lines.append(
                f"| {name} | {what} | {_fmt(_med(vals(s, pr, 'rps')))} "
                f"| {_fmt(_med(vals(s, pr, 'p50_ms')), 1)} "
                f"| {_fmt(_med(vals(s, pr, 'p99_ms')), 1)} "
                f"| {_fmt(_med(vals(s, pr, 'server_cpu_ms_per_req')), 3)} "
                f"| {_fmt(_med(vals(s, pr, 'rss_peak_mb')))} "
                f"| {errors_text(by.get((s, pr), []))} |"
            )
    return "\n".join(lines) + "\n"


def _versions() -> str:
    from importlib import metadata

    names = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "asyncpg", "pydantic",
             "strawberry-graphql", "orjson")  # fmt: skip
    found = []
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    return ", ".join(found)


def machine_meta(projects: int, rounds: int, ls: str) -> dict[str, Any]:
    def sh(cmd: str) -> str:
        r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
        return r.stdout.strip()

    cpu = re.search(r"^model name\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(), re.M)
    changed = sh(f"git -C {ROOT} status --porcelain -- src pyproject.toml").splitlines()
    dirty = (
        f" + uncommitted changes in {len(changed)} files of src/" if changed else " (src/ clean)"
    )
    return {
        "stamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "nproc": os.cpu_count(),
        "cpu": cpu.group(1) if cpu else "?",
        "postgres": sh(f"psql {PG}/postgres -qAt -c 'show server_version'").split(" ")[0],
        "python": sys.version.split()[0],
        "wrk": sh("wrk -v 2>&1 | head -1").split(" ")[1] if shutil.which("wrk") else "?",
        "projects": projects,
        "rounds": rounds,
        "load": ls,
        "loadavg_start": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "commit": sh(f"git -C {ROOT} rev-parse --short HEAD") + dirty,
        "packages": _versions(),
        "argv": " ".join(sys.argv[1:]),
    }


# --- profile -----------------------------------------------------------------------------


def find_pyspy() -> str:
    found = shutil.which("py-spy") or str(TOOLS_VENV / "bin" / "py-spy")
    if not Path(found).exists():
        say(f"installing py-spy into {TOOLS_VENV}")
        run([sys.executable, "-m", "venv", str(TOOLS_VENV)])
        run([str(TOOLS_VENV / "bin" / "pip"), "install", "-q", "py-spy"])
    return found


def profile(pg: Target, results: Path, a: argparse.Namespace) -> None:
    pyspy = find_pyspy()
    ls = LoadSettings(a.profile_seconds * 2 + 6, 0, a.connections, a.threads)
    server = pmo_server(pg.database_url, results / "logs" / "profile.log")
    with server.running():
        for route in a.profile_routes:
            env = clean_env(
                ROUTE=route, LABEL="profile", PMO_API_KEY=API_KEY,
                PMO_DATA_DIR=str(pg.data_dir), RUN_TAG=_tag(),
            )  # fmt: skip
            cmd = ["taskset", "-c", LOAD_CPU, "wrk", f"-t{ls.threads}", f"-c{ls.connections}",
                   f"-d{ls.duration}s", "-s", str(LUA), server.url]  # fmt: skip
            say(f"profiling {route} under load ({a.profile_seconds} s raw + flamegraph)")
            wrk = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
            time.sleep(3)  # warm-up
            raw, svg = results / f"profile-{route}.txt", results / f"profile-{route}.svg"
            base = [pyspy, "record", "--pid", str(server.pid), "--rate", "100",
                    "--duration", str(a.profile_seconds), "--function", "--gil"]  # fmt: skip
            run([*base, "--format", "raw", "-o", str(raw)], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)  # fmt: skip
            run([*base, "--format", "flamegraph", "-o", str(svg)], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)  # fmt: skip
            wrk.communicate()
            if route == "post":
                pg.cleanup_posts()
            summary = pyspy_summary.analyze(raw)
            (results / f"profile-{route}.summary.txt").write_text(summary)
            print(f"\n## py-spy: pmo-api {route} (PostgreSQL)\n\n{summary}", flush=True)
    scan_log(results / "logs" / "profile.log", a.keep_logs)


def _link_latest(results: Path, stamp: str) -> None:
    with contextlib.suppress(OSError):
        (results / "latest").unlink(missing_ok=True)
        (results / "latest").symlink_to(stamp)


# --- main --------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--scale", choices=sorted(seeder.SCALES), default="default")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sqlite-rounds", type=int, default=2, help="0: no SQLite benchmark")
    ap.add_argument("--duration", type=int, default=10, help="seconds measured per route")
    ap.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per route")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--routes",
        default=",".join([p[0] for p in PAIRS] + list(TIMED)),
        help="the loaded routes, and 'lessons' (its searches timed one at a time)",
    )
    ap.add_argument("--startup-runs", type=int, default=3, help="0: skip the start-time check")
    ap.add_argument("--skip-seed", action="store_true", help="reuse the seeded databases")
    ap.add_argument("--profile", action="store_true", help="py-spy after the measured rounds")
    ap.add_argument("--profile-only", action="store_true", help="only the py-spy profile")
    ap.add_argument("--profile-routes", default="get,list")
    ap.add_argument("--profile-seconds", type=int, default=10)
    ap.add_argument("--results", type=Path, default=BENCH / "results")
    ap.add_argument("--keep-logs", action="store_true", help="keep the servers' full logs")
    a = ap.parse_args()
    a.routes = [r.strip() for r in a.routes.split(",") if r.strip()]
    a.profile_routes = [r.strip() for r in a.profile_routes.split(",") if r.strip()]
    unknown = set(a.routes) - {p[0] for p in PAIRS} - set(TIMED)
    if unknown:
        ap.error(f"unknown routes {sorted(unknown)}; known: {[p[0] for p in PAIRS]} + {TIMED}")
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            ap.error(f"{tool} is missing (make bench installs wrk: apt-get install -y wrk)")
    if (os.cpu_count() or 1) < 2:
        ap.error("needs 2 CPUs: the server runs on CPU 0 and wrk on CPU 1")

    projects = seeder.SCALES[a.scale]
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    results = a.results / stamp
    results.mkdir(parents=True)
    work = a.results / "work"
    sqlite_path = (work / f"pmo_api_bench-{a.scale}.db").resolve()
    with_sqlite = a.sqlite_rounds > 0 and not a.profile_only
    pg = Target("postgresql", f"{PG}/{PMO_DB}", (work / "data-postgresql").resolve())
    sqlite = Target("sqlite", f"sqlite:///{sqlite_path}", (work / "data-sqlite").resolve(),
                    sqlite_path) if with_sqlite else None  # fmt: skip
    t0 = time.perf_counter()
    load = f"wrk {a.threads} threads, {a.connections} connections, {a.warmup} s warm-up, "
    load += f"{a.duration} s measured"
    meta = machine_meta(projects, a.rounds, load)
    say(f"results in {results}")

    if not a.skip_seed:
        seed_all(a.scale, projects, sqlite_path, with_sqlite)
    targets = [pg] + ([sqlite] if sqlite else [])
    for t in targets:
        prepare(t, results, projects)
    if a.profile_only:
        profile(pg, results, a)
        _link_latest(a.results, stamp)
        return 0
    if a.startup_runs:
        meta["startup"] = measure_startup(targets, results, a.startup_runs)
    records = measured_rounds(a, pg, sqlite, results, projects, meta)
    meta["loadavg_end"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    meta["minutes"] = round((time.perf_counter() - t0) / 60, 1)
    text = summarize(records, meta, a.routes)
    text += f"\nTotal run time {meta['minutes']} min. Command: `make bench"
    text += f" BENCH_ARGS='{meta['argv']}'`\n" if meta["argv"] else "`\n"
    (results / "summary.md").write_text(text)
    (results / "meta.json").write_text(json.dumps(meta, indent=2))
    print(text, flush=True)
    if a.profile:
        profile(pg, results, a)
    _link_latest(a.results, stamp)
    say(f"done in {(time.perf_counter() - t0) / 60:.1f} min; {results / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
