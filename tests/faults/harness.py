"""The fault-test harness: the service as a separate process, a client that records
every call, a ledger of every acknowledged write, and the faults themselves.

* ``Service`` starts ``pmo-api serve`` on a free port (``--workers``, ``--migrate``,
  ``--graceful-timeout`` as asked), waits for ``/readyz`` and stops it with SIGTERM.
* ``Client`` wraps ``httpx.AsyncClient``: every call gets its own ``X-Request-ID``
  (so a write whose answer was lost can still be found in the audit trail), its
  timing and outcome are kept, and every 5xx is checked on the spot (503 must be
  problem+json ``database_unavailable`` with ``Retry-After``; anything else is a
  violation).
* ``Ledger`` holds what the service acknowledged: for each project created by the
  load, the idempotency key, the id and the values of its last acknowledged state,
  plus the states an unanswered write may have stored. ``Ledger.verify`` checks all
  of it against the service and the database afterwards.
* ``Load`` runs client workers doing creates (retried with the same
  ``Idempotency-Key`` until a 201), updates with ``If-Match``, archives and reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pmo_api.events.models import AuditEvent
from pmo_api.idempotency.models import IdempotencyRecord
from pmo_api.portfolios.models import Portfolio
from pmo_api.projects.models import Project
from tests.conftest import ADMIN_KEY, POSTGRES_URL, create_database

API = "/api/v1"
PROJECTS = f"{API}/projects"
TRACKED = ("key", "name", "priority_score", "health", "status", "percent_complete")
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})

# One line per test lands here (tests/faults/conftest.py writes it out as JSON).
REPORT: list[dict[str, Any]] = []


def record_figures(test: str, figures: dict[str, Any]) -> None:
    """Print the figures a test measured on one line and keep them for the report."""
    REPORT.append({"test": test, **figures})
    line = " ".join(f"{k}={fmt_figure(v)}" for k, v in figures.items())
    print(f"\n[faults] {test}: {line}", flush=True)


def fmt_figure(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pmo_api_command() -> list[str]:
    """``.venv/bin/pmo-api``: the console script next to the interpreter running pytest."""
    script = shutil.which("pmo-api", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "pmo_api.cli"]


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- databases ---------------------------------------------------------------------------


@dataclass
class Database:
    """A fresh database for one test: its URL, and for PostgreSQL its name."""

    backend: str
    url: str
    dropper: Any = None
    _engine: AsyncEngine | None = None

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[1]

    @property
    def sqlite_path(self) -> Path:
        return Path(self.url.split(":///", 1)[1])

    @property
    def asyncpg_dsn(self) -> str:
        return "postgresql://" + self.url.split("://", 1)[1]

    def via_port(self, port: int) -> str:
        """This database's URL through a proxy listening on 127.0.0.1:port."""
        parts = urlsplit(self.url)
        user = f"{parts.username}@" if parts.username else ""
        return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))

    @property
    def engine(self) -> AsyncEngine:
        """The harness's own connection to the database (never through the proxy)."""
        if self._engine is None:
            self._engine = create_async_engine(
                self.url, pool_size=2, max_overflow=2, pool_pre_ping=True
            )
        return self._engine

    async def drop(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
        if self.dropper is not None:
            await self.dropper()


@contextlib.asynccontextmanager
async def fresh_database(backend: str, tmp: Path) -> AsyncIterator[Database]:
    url, drop = await create_database(backend, tmp)
    database = Database(backend, url, drop)
    try:
        yield database
    finally:
        await database.drop()


# --- the service process -----------------------------------------------------------------


class ServiceFailed(AssertionError):
    pass


class Service:
    """``pmo-api serve`` as a child process (its own session, so its workers can be
    cleaned up as one group if it ever fails to stop)."""

    def __init__(
        self,
        database_url: str,
        workdir: Path,
        *,
        port: int | None = None,
        workers: int = 1,
        graceful_timeout: int = 10,
        migrate: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.port = port or free_port()
        self.workers = workers
        self.graceful_timeout = graceful_timeout
        self.migrate = migrate
        self.extra_env = env or {}
        self.process: asyncio.subprocess.Process | None = None
        self.log_path = workdir / f"service-{self.port}-{uuid.uuid4().hex[:6]}.log"
        self._log: IO[bytes] | None = None
        self.sigterm_at: float | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PMO_")}
        # The rate limits count every request (through the database, whose faults they
        # must survive), with budgets a load never meets unless a test sets its own.
        env.update(
            PMO_RATE_LIMIT_REST_REQUESTS="1000000000",
            PMO_RATE_LIMIT_GRAPHQL_COST="1000000000000",
        )
        env.update(
            PMO_DATABASE_URL=self.database_url,
            PMO_BOOTSTRAP_ADMIN_KEY=ADMIN_KEY,
            PMO_LOG_LEVEL="WARNING",
            **self.extra_env,
        )
        return env

    async def run_cli(self, *args: str, limit_s: float = 60) -> None:
        """A one-off ``pmo-api`` command with this service's settings (e.g. migrate)."""
        proc = await asyncio.create_subprocess_exec(
            *pmo_api_command(),
            *args,
            env=self._env(),
            cwd=self.workdir,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(proc.communicate(), limit_s)
        if proc.returncode != 0:
            raise ServiceFailed(f"pmo-api {' '.join(args)} failed: {output.decode()[-2000:]}")

    async def start(self, limit_s: float = 45) -> None:
        command = [
            *pmo_api_command(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--graceful-timeout",
            str(self.graceful_timeout),
        ]
        if self.migrate:
            command.append("--migrate")
        self._log = self.log_path.open("ab")
        self.sigterm_at = None
        self.process = await asyncio.create_subprocess_exec(
            *command,
            env=self._env(),
            cwd=self.workdir,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,
        )
        deadline = time.monotonic() + limit_s
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as http:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise ServiceFailed(f"pmo-api serve exited early:\n{self.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        await self.kill()
        raise ServiceFailed(f"pmo-api serve not ready after {limit_s}s:\n{self.log_tail()}")

    def sigterm(self) -> float:
        assert self.process is not None
        self.sigterm_at = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        return self.sigterm_at

    async def wait(self, limit_s: float) -> int | None:
        """The exit code, or None if the process is still running after ``limit_s``."""
        assert self.process is not None
        try:
            return await asyncio.wait_for(self.process.wait(), limit_s)
        except TimeoutError:
            return None

    def worker_pids(self) -> list[int]:
        """The server processes uvicorn's supervisor started (``--workers``), leaving
        out multiprocessing's resource tracker."""
        if self.process is None:
            return []
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                command = (stat.parent / "cmdline").read_bytes()
                if int(fields[1]) == self.process.pid and b"resource_tracker" not in command:
                    children.append(int(stat.parent.name))
        return children

    async def kill(self) -> None:
        """Last resort: SIGKILL this service's own process group."""
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            await self.process.wait()
        self._close_log()

    async def stop(self) -> int | None:
        """SIGTERM, then wait for the grace period (and a little more) before killing."""
        if self.process is None:
            return None
        code = self.process.returncode
        if code is None:
            if self.sigterm_at is None:
                self.sigterm()
            code = await self.wait(self.graceful_timeout + 10)
        if code is None:
            await self.kill()
        self._close_log()
        return code

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@contextlib.asynccontextmanager
async def serving(service: Service) -> AsyncIterator[Service]:
    """A started service, stopped (SIGTERM, then SIGKILL if need be) whatever happens."""
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


# --- the client: every call recorded and checked -----------------------------------------


@dataclass
class Call:
    method: str
    path: str
    request_id: str
    started: float
    ended: float = 0.0
    status: int | None = None
    error: str | None = None
    response: httpx.Response | None = None
    deliberate: bool = False
    """The client chose not to wait for the answer (a short timeout of its own)."""

    @property
    def answered(self) -> bool:
        return self.status is not None

    @property
    def latency(self) -> float:
        return self.ended - self.started

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS

    def json(self) -> dict[str, Any]:
        assert self.response is not None
        body: dict[str, Any] = self.response.json()
        return body

    @property
    def problem_code(self) -> str | None:
        if self.response is None or self.status is None or self.status < 400:
            return None
        try:
            return str(self.json().get("code"))
        except ValueError:
            return None

    def retry_after(self, default: float = 1.0) -> float:
        if self.response is None:
            return default
        try:
            return float(self.response.headers.get("retry-after", default))
        except ValueError:
            return default


class Client:
    """An ``httpx.AsyncClient`` against the service that keeps every call it made."""

    def __init__(self, base_url: str, *, key: str = ADMIN_KEY, timeout: float = 20) -> None:
        self.tag = uuid.uuid4().hex[:8]
        self.http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=5),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=60),
            headers={"Authorization": f"Bearer {key}"},
        )
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self._ids = itertools.count(1)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        give_up_after: float | None = None,
    ) -> Call:
        request_id = f"faults-{self.tag}-{next(self._ids)}"
        call = Call(method, path, request_id, started=time.monotonic())
        call.deliberate = give_up_after is not None
        self.calls.append(call)
        try:
            response = await self.http.request(
                method,
                path,
                json=json_body,
                params=params,
                headers={"X-Request-ID": request_id, **(headers or {})},
                timeout=httpx.USE_CLIENT_DEFAULT if give_up_after is None else give_up_after,
            )
        except httpx.HTTPError as error:
            call.ended = time.monotonic()
            call.error = f"{type(error).__name__}: {error}"[:200]
            return call
        call.ended = time.monotonic()
        call.status = response.status_code
        call.response = response
        self._check(call)
        return call

    def _check(self, call: Call) -> None:
        assert call.response is not None and call.status is not None
        if call.status == 503:
            content_type = call.response.headers.get("content-type", "")
            retry_after = call.response.headers.get("retry-after", "")
            problem = call.problem_code
            if not (
                content_type.startswith("application/problem+json")
                and retry_after.isdigit()
                and problem == "database_unavailable"
            ):
                self.violations.append(
                    f"bad 503 on {call.method} {call.path}: type={content_type!r} "
                    f"retry-after={retry_after!r} code={problem!r}"
                )
        elif call.status >= 500:
            self.violations.append(
                f"{call.status} on {call.method} {call.path} (request {call.request_id}): "
                f"{call.response.text[:300]}"
            )

    # Figures over the recorded calls -------------------------------------------------

    def between(self, start: float, end: float) -> list[Call]:
        """Calls that started and ended inside [start, end]."""
        return [c for c in self.calls if c.started >= start and c.ended <= end and c.ended]

    def statuses(self, calls: Iterable[Call] | None = None) -> dict[str, int]:
        counts = Counter(
            str(c.status) if c.status is not None else "no_response"
            for c in (self.calls if calls is None else calls)
        )
        return dict(sorted(counts.items()))

    def count(self, status: int | None, calls: Iterable[Call] | None = None) -> int:
        return sum(1 for c in (self.calls if calls is None else calls) if c.status == status)

    def transport_errors(self, calls: Iterable[Call] | None = None) -> list[Call]:
        """Calls the service did not answer (leaving out those the client gave up on)."""
        return [
            c
            for c in (self.calls if calls is None else calls)
            if c.error is not None and not c.deliberate
        ]

    def abandoned_by_client(self) -> int:
        return sum(1 for c in self.calls if c.deliberate and c.error is not None)

    def first_write_success_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` to the end of the first write answered 200/201
        that was sent at or after it."""
        done = [
            c.ended - moment
            for c in self.calls
            if c.is_write and c.started >= moment and c.status in (200, 201)
        ]
        return min(done) if done else None


# --- the ledger of acknowledged writes ---------------------------------------------------


def state_of(body: dict[str, Any]) -> dict[str, Any]:
    """The values a response said were stored, in the form the ledger compares."""
    state = {name: body[name] for name in TRACKED}
    state["version"] = body["version"]
    state["archived"] = body["archived_at"] is not None
    return state


@dataclass
class Tracked:
    """One project the load created: its last known state, and what an unanswered
    write may have stored on top of it."""

    idem: str
    body: dict[str, Any]
    id: str | None = None
    state: dict[str, Any] | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)

    @property
    def uncertain(self) -> bool:
        return bool(self.pending)

    def candidates(self) -> list[dict[str, Any]]:
        assert self.state is not None
        return [self.state, *self.pending]


class Ledger:
    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.projects: dict[str, Tracked] = {}  # by idempotency key
        self.ids_by_idem: dict[str, str] = {}
        self.acked: list[Call] = []  # every write answered 200/201, replays included
        self.unanswered: list[Call] = []  # writes answered 503 or not at all
        self.duplicates: list[str] = []
        self.anomalies: list[str] = []
        self.abandoned: set[str] = set()
        self.replays = 0
        self.serials = itertools.count(1)  # one series per ledger: keys never collide

    @property
    def acked_writes(self) -> int:
        return len(self.acked)

    # What the client was told --------------------------------------------------------

    def ack_create(self, tracked: Tracked, call: Call) -> None:
        body = call.json()
        if call.response is not None and call.response.headers.get("idempotent-replayed"):
            self.replays += 1
        known = self.ids_by_idem.get(tracked.idem)
        if known is not None and known != body["id"]:
            self.duplicates.append(f"{tracked.idem}: answered with ids {known} and {body['id']}")
        self.ids_by_idem[tracked.idem] = body["id"]
        tracked.id = body["id"]
        tracked.state = state_of(body)
        self.acked.append(call)

    def ack_write(self, tracked: Tracked, call: Call) -> None:
        tracked.state = state_of(call.json())
        tracked.pending.clear()
        self.acked.append(call)

    def unanswered_write(self, tracked: Tracked, call: Call, possible: dict[str, Any]) -> None:
        tracked.pending.append(possible)
        self.unanswered.append(call)

    def observe(self, tracked: Tracked, body: dict[str, Any], where: str) -> None:
        """A read of a tracked project must show a state the client was told of, or one
        an unanswered write may have stored; it then becomes the known state."""
        seen = state_of(body)
        if tracked.id != body["id"]:
            self.anomalies.append(f"{where}: {tracked.idem} has id {body['id']}, not {tracked.id}")
        if seen not in tracked.candidates():
            self.anomalies.append(
                f"{where}: {tracked.idem} ({tracked.id}) shows {seen}, "
                f"expected one of {tracked.candidates()}"
            )
        tracked.state = seen
        tracked.pending.clear()

    # The check afterwards ------------------------------------------------------------

    async def verify(self, client: Client, database: Database) -> dict[str, Any]:
        """Every acknowledged write is there with its values; no duplicates.

        * every project the load was told was created is read back by id and shows
          the last state it was told of (or one an unanswered write may have stored);
        * every acknowledged write that was not a replay has its request id on the
          audit trail (written in the same transaction as the change: it committed);
        * per idempotency key: one row, one idempotency record, one
          ``project.created`` event, one id in every 201 answered for it.

        Returns the figures; the caller asserts on ``lost``, ``duplicates`` and
        ``anomalies``.
        """
        lost: list[str] = []
        checked_states = 0
        created = [t for t in self.projects.values() if t.id is not None]
        semaphore = asyncio.Semaphore(8)

        async def check(tracked: Tracked) -> None:
            nonlocal checked_states
            async with semaphore:
                for _ in range(20):
                    call = await client.send("GET", f"{PROJECTS}/{tracked.id}")
                    if call.status != 503 and call.error is None:
                        break
                    await asyncio.sleep(0.5)
            if call.status != 200:
                lost.append(f"{tracked.idem} ({tracked.id}): GET answered {call.status}")
                return
            self.observe(tracked, call.json(), "verify")
            checked_states += 1

        await asyncio.gather(*(check(t) for t in created))

        # Every acknowledged write that was not a replay left its request id on the audit
        # trail, in the same transaction as the change: it committed.
        originals = [
            c
            for c in self.acked
            if c.response is not None and not c.response.headers.get("idempotent-replayed")
        ]
        audited = await request_ids_on_trail(database, [c.request_id for c in originals])
        for call in originals:
            if call.request_id not in audited:
                lost.append(f"{call.method} {call.path} ({call.request_id}) is not on the trail")
        unanswered_committed = len(
            await request_ids_on_trail(database, [c.request_id for c in self.unanswered])
        )

        # Rows the load created, grouped by the idempotency key in their attributes.
        async with database.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(Project.id, Project.attributes).where(
                        Project.name.startswith(f"{self.tag} ")
                    )
                )
            ).all()
            created_events = dict(
                (
                    await connection.execute(
                        select(AuditEvent.entity_id, func.count())
                        .where(AuditEvent.action == "project.created")
                        .where(AuditEvent.entity_id.in_([uuid.UUID(t.id) for t in created if t.id]))
                        .group_by(AuditEvent.entity_id)
                    )
                ).all()
            )
            idem_rows = (
                await connection.execute(
                    select(IdempotencyRecord.idempotency_key, func.count())
                    .where(IdempotencyRecord.idempotency_key.startswith(f"{self.tag}-"))
                    .group_by(IdempotencyRecord.idempotency_key)
                )
            ).all()
        by_idem = Counter(str(attrs.get("idem")) for _id, attrs in rows)
        for idem, count in by_idem.items():
            if count > 1:
                self.duplicates.append(f"{idem}: {count} rows")
        for idem, count in idem_rows:
            if count > 1:
                self.duplicates.append(f"{idem}: {count} idempotency records")
        for tracked in created:
            events = created_events.get(uuid.UUID(tracked.id or ""), 0)
            if events != 1:
                self.duplicates.append(f"{tracked.idem}: {events} project.created events")
        unacknowledged_rows = [
            idem for idem in by_idem if idem not in self.ids_by_idem and idem not in self.abandoned
        ]
        if unacknowledged_rows:
            self.anomalies.append(f"rows no client asked for: {unacknowledged_rows[:5]}")
        return {
            "acked_writes": self.acked_writes,
            "acked_on_trail": len(originals)
            - sum(1 for c in originals if c.request_id not in audited),
            "projects_checked": checked_states,
            "replays": self.replays,
            "unanswered_writes": len(self.unanswered),
            "unanswered_committed": unanswered_committed,
            "abandoned_creates": len(self.abandoned),
            "lost": lost,
            "duplicates": list(self.duplicates),
            "anomalies": list(self.anomalies),
        }


async def request_ids_on_trail(database: Database, request_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    async with database.engine.connect() as connection:
        for start in range(0, len(request_ids), 500):
            chunk = list(request_ids[start : start + 500])
            result = await connection.execute(
                select(AuditEvent.request_id).where(AuditEvent.request_id.in_(chunk))
            )
            found.update(str(r) for r in result.scalars())
    return found


# --- the load ----------------------------------------------------------------------------


class Load:
    """Client workers writing and reading projects in one portfolio.

    Each worker owns the projects it creates (so its If-Match versions are its own):

    * create: POST with an ``Idempotency-Key``, retried with the same key and body on
      503, 409 ``idempotency_in_flight`` or a connection error, until a 201;
    * update: PATCH with ``If-Match``; an unanswered one leaves the project uncertain,
      and the worker reads it (and checks it) before writing it again;
    * archive: DELETE with ``If-Match``;
    * read: GET of an own project (checked against the ledger) or a page of the list.
    """

    def __init__(
        self,
        client: Client,
        ledger: Ledger,
        portfolio_id: str,
        *,
        seed: int,
        mix: tuple[float, float, float] = (0.3, 0.3, 0.05),
        pause: float = 0.02,
        create_deadline: float = 60,
        impatient: float = 0.1,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.portfolio_id = portfolio_id
        self.seed = seed
        self.mix = mix
        self.pause = pause
        self.create_deadline = create_deadline
        self.impatient = impatient
        self.stop = asyncio.Event()

    def new_tracked(self, worker: int) -> Tracked:
        serial = next(self.ledger.serials)
        idem = f"{self.ledger.tag}-{worker}-{serial}"
        body = {
            "key": f"F{self.ledger.tag[:6].upper()}-{serial}",
            "name": f"{self.ledger.tag} project {serial}",
            "portfolio_id": self.portfolio_id,
            "priority_score": serial % 101,
            "attributes": {"idem": idem},
        }
        tracked = Tracked(idem=idem, body=body)
        self.ledger.projects[idem] = tracked
        return tracked

    async def create(
        self, tracked: Tracked, *, interval: float = 0.25, impatient: bool = False
    ) -> bool:
        """POST until a 201 (same key, same body); False if it had to give up.

        An impatient client stops waiting for the first answer after 5 ms, as if the
        answer were lost on the way, and retries: the service usually still commits
        the first attempt, so the retry must replay it."""
        deadline = time.monotonic() + self.create_deadline
        attempts = 0
        while True:
            call = await self.client.send(
                "POST",
                PROJECTS,
                json_body=tracked.body,
                headers={"Idempotency-Key": tracked.idem},
                give_up_after=0.005 if impatient and attempts == 0 else None,
            )
            attempts += 1
            if call.status == 201:
                self.ledger.ack_create(tracked, call)
                return True
            retryable = call.status == 503 or call.error is not None
            in_flight = call.status == 409 and call.problem_code == "idempotency_in_flight"
            if call.status == 409 and call.problem_code == "duplicate_key" and attempts > 1:
                # The first attempt committed, yet the retry did not replay it.
                self.ledger.duplicates.append(f"{tracked.idem}: retry answered duplicate_key")
                return False
            if not (retryable or in_flight):
                self.ledger.anomalies.append(
                    f"create {tracked.idem}: {call.status} {call.error or call.problem_code}"
                )
                return False
            if time.monotonic() > deadline:
                self.ledger.abandoned.add(tracked.idem)
                return False
            if call.deliberate:
                continue  # retry at once, most likely while the first is still in flight
            await asyncio.sleep(min(interval, call.retry_after()) if call.status else interval)

    async def resolve(self, tracked: Tracked) -> Call:
        """Read an uncertain project back; once answered, its state is known again."""
        call = await self.client.send("GET", f"{PROJECTS}/{tracked.id}")
        if call.status == 200:
            self.ledger.observe(tracked, call.json(), "resolve")
        elif call.status not in (503, None):
            self.ledger.anomalies.append(f"resolve {tracked.idem}: {call.status}")
        return call

    async def update(self, tracked: Tracked, rng: random.Random) -> Call:
        assert tracked.state is not None and tracked.id is not None
        patch = {
            "name": f"{self.ledger.tag} project {rng.randrange(10**6)}",
            "priority_score": rng.randrange(101),
            "health": rng.choice(["green", "amber", "red"]),
            "percent_complete": rng.randrange(101),
        }
        possible = {**tracked.state, **patch, "version": tracked.state["version"] + 1}
        call = await self.client.send(
            "PATCH",
            f"{PROJECTS}/{tracked.id}",
            json_body=patch,
            headers={"If-Match": f'"{tracked.state["version"]}"'},
        )
        self._settle(tracked, call, possible)
        return call

    async def archive(self, tracked: Tracked) -> Call:
        assert tracked.state is not None and tracked.id is not None
        possible = {**tracked.state, "archived": True, "version": tracked.state["version"] + 1}
        call = await self.client.send(
            "DELETE",
            f"{PROJECTS}/{tracked.id}",
            headers={"If-Match": f'"{tracked.state["version"]}"'},
        )
        self._settle(tracked, call, possible)
        return call

    def _settle(self, tracked: Tracked, call: Call, possible: dict[str, Any]) -> None:
        if call.status == 200:
            self.ledger.ack_write(tracked, call)
        elif call.status == 503 or call.error is not None:
            self.ledger.unanswered_write(tracked, call, possible)
        else:
            # Only this worker writes this project, and it always knows the version:
            # a 412 (or anything else) means a write it was not told of happened.
            self.ledger.anomalies.append(
                f"{call.method} {tracked.idem}: {call.status} {call.problem_code}"
            )
            self.ledger.unanswered_write(tracked, call, possible)

    async def read(self, own: list[Tracked], rng: random.Random) -> Call:
        settled = [t for t in own if not t.uncertain]
        if settled and rng.random() < 0.6:
            tracked = rng.choice(settled)
            call = await self.client.send("GET", f"{PROJECTS}/{tracked.id}")
            if call.status == 200:
                self.ledger.observe(tracked, call.json(), "read")
            elif call.status not in (503, None):
                self.ledger.anomalies.append(f"read {tracked.idem}: {call.status}")
            return call
        params = {"portfolio_id": self.portfolio_id, "limit": 20, "sort": "-updated_at"}
        return await self.client.send("GET", PROJECTS, params=params)

    async def worker(self, number: int) -> None:
        rng = random.Random(self.seed * 1000 + number)
        own: list[Tracked] = []
        p_create, p_update, p_archive = self.mix
        while not self.stop.is_set():
            uncertain = [t for t in own if t.uncertain]
            live = [t for t in own if t.state is not None and not t.state["archived"]]
            roll = rng.random()
            call: Call | None = None
            if uncertain:
                call = await self.resolve(uncertain[0])
            elif roll < p_create or not live:
                tracked = self.new_tracked(number)
                # create() retries (and pauses) by itself
                if await self.create(tracked, impatient=rng.random() < self.impatient):
                    own.append(tracked)
            elif roll < p_create + p_update:
                call = await self.update(rng.choice(live), rng)
            elif roll < p_create + p_update + p_archive:
                call = await self.archive(rng.choice(live))
            else:
                call = await self.read(live, rng)
            failed = call is not None and (call.status == 503 or call.error is not None)
            await asyncio.sleep(min(0.3, call.retry_after()) if failed and call else self.pause)
        # Leave nothing unknown: read back what an unanswered write may have changed.
        for tracked in own:
            for _ in range(40):
                if not tracked.uncertain or (await self.resolve(tracked)).status == 200:
                    break
                await asyncio.sleep(0.25)

    @contextlib.asynccontextmanager
    async def running(self, workers: int) -> AsyncIterator[list[asyncio.Task[None]]]:
        tasks = [asyncio.create_task(self.worker(n)) for n in range(workers)]
        try:
            yield tasks
        finally:
            self.stop.set()
            await asyncio.gather(*tasks)


# --- setup through the API ---------------------------------------------------------------


async def make_portfolio(client: Client, prefix: str = "PF") -> dict[str, Any]:
    body = {"key": f"{prefix}-{uuid.uuid4().hex[:8].upper()}", "name": "Fault tests"}
    call = await client.send("POST", f"{API}/portfolios", json_body=body)
    assert call.status == 201, call.response.text if call.response else call.error
    return call.json()


# --- faults on PostgreSQL ----------------------------------------------------------------


async def terminate_backends(database: Database) -> int:
    """Kill every server-side connection to the test database (and only to it)."""
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        rows = await admin.fetch(
            "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            database.name,
        )
    finally:
        await admin.close()
    return sum(1 for row in rows if row["killed"])


async def service_backends_waiting_on_locks(database: Database) -> int:
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        count = await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 "
            "AND application_name = 'pmo-api' AND wait_event_type = 'Lock'",
            database.name,
        )
    finally:
        await admin.close()
    return int(count)


@contextlib.asynccontextmanager
async def portfolio_row_locked(database: Database, portfolio_id: str) -> AsyncIterator[None]:
    """Hold ``FOR UPDATE`` on a portfolio row: inserting a project into it waits on the
    foreign-key check (``FOR KEY SHARE``) until the lock goes."""
    connection = await asyncpg.connect(database.asyncpg_dsn)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(
            "SELECT id FROM portfolios WHERE id = $1 FOR UPDATE", uuid.UUID(portfolio_id)
        )
        try:
            yield
        finally:
            await transaction.rollback()
    finally:
        await connection.close()


# --- seeding -----------------------------------------------------------------------------


async def seed_projects(
    database: Database, count: int, seed: int
) -> tuple[str, list[dict[str, Any]]]:
    """A portfolio and ``count`` valid projects, inserted in bulk through SQLAlchemy
    Core (the models' column types bind money and timestamps for either database).
    Sort keys repeat on purpose (priority, budget, timestamps) so pages end inside
    runs of equal values and the id tie-break matters."""
    rng = random.Random(seed)
    now = utcnow().replace(microsecond=0)
    portfolio_id = uuid.uuid4()
    words = ["alpha", "beta", "gamma", "delta", "omega", "kappa", "sigma", "zeta"]
    rows = []
    for i in range(count):
        stamp = now - timedelta(seconds=(count - i) // 7)
        rows.append(
            {
                "id": uuid.uuid4(),
                "key": f"SEED-{i:05d}",
                "name": f"{rng.choice(words)} {rng.choice(words)} {i % 50}",
                "portfolio_id": portfolio_id,
                "status": rng.choice(["proposed", "active", "on_hold"]),
                "health": rng.choice(["green", "amber", "red"]),
                "priority_score": rng.randrange(0, 101, 5),
                "planned_budget": Decimal(rng.choice([0, 1000, 250000, 1250000])),
                "actual_cost": Decimal("0.00"),
                "percent_complete": 0,
                "attributes": {},
                "version": 1,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    async with database.engine.begin() as connection:
        await connection.execute(
            insert(Portfolio),
            [
                {
                    "id": portfolio_id,
                    "key": f"SEED-{uuid.uuid4().hex[:6].upper()}",
                    "name": "Seeded portfolio",
                    "priority_weight_alignment": 50,
                    "priority_weight_value": 30,
                    "priority_weight_risk": 20,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        for start in range(0, count, 2000):
            await connection.execute(insert(Project), rows[start : start + 2000])
    return str(portfolio_id), rows


def load_figures(client: Client, verified: dict[str, Any]) -> dict[str, Any]:
    """The figures every load-driven scenario reports."""
    return {
        "requests": len(client.calls),
        "statuses": client.statuses(),
        "503s": client.count(503),
        "server_errors": len(client.violations),
        "client_timeouts": client.abandoned_by_client(),
        **{k: v for k, v in verified.items() if k not in ("lost", "duplicates", "anomalies")},
        "lost": len(verified["lost"]),
        "duplicates": len(verified["duplicates"]),
        "anomalies": len(verified["anomalies"]),
    }


def assert_clean(
    verified: dict[str, Any], *clients: Client, transport_errors: bool = False
) -> None:
    """No 500 or malformed 503, every acknowledged write there, no duplicates; and
    (unless allowed) no request the service left without an answer."""
    for client in clients:
        assert not client.violations, client.violations[:10]
        errors = client.transport_errors()
        assert transport_errors or not errors, [(c.method, c.path, c.error) for c in errors[:10]]
    assert not verified["lost"], verified["lost"][:10]
    assert not verified["duplicates"], verified["duplicates"][:10]
    assert not verified["anomalies"], verified["anomalies"][:10]
