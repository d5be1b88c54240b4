"""Test fixtures: every test runs against SQLite and against PostgreSQL.

The databases are built by running the migrations, the app runs its real lifespan,
and requests go through the full ASGI stack. PostgreSQL tests are skipped (and
say so) when no server answers at PMO_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import event, text

from pmo_api.app import create_app
from pmo_api.auth.cache import principals
from pmo_api.db import migrate
from pmo_api.migrations.metadata import metadata
from pmo_api.settings import Settings

ADMIN_KEY = "pmo_test_bootstrap_admin_key_0123456789"
POSTGRES_URL = os.environ.get(
    "PMO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [b for b in os.environ.get("PMO_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


def new_key(prefix: str = "T") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12].upper()}"


async def _postgres_available() -> bool:
    try:
        connection = await asyncpg.connect(POSTGRES_URL, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


async def create_database(backend: str, tmp: Path) -> tuple[str, Any]:
    """A fresh, empty database; returns its URL and a callable that drops it."""
    if backend == "sqlite":
        path = tmp / f"pmo-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite+aiosqlite:///{path}", None
    if not await _postgres_available():
        unreachable = f"PostgreSQL not reachable at {POSTGRES_URL}"
        if os.environ.get("PMO_TEST_REQUIRE_POSTGRES", "") not in ("", "0"):  # CI: never skip
            pytest.fail(f"{unreachable} and PMO_TEST_REQUIRE_POSTGRES is set", pytrace=False)
        pytest.skip(f"{unreachable}: PostgreSQL tests skipped")
    name = f"pmo_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base = POSTGRES_URL.rsplit("/", 1)[0].split("://", 1)[1]

    async def drop() -> None:
        admin = await asyncpg.connect(POSTGRES_URL)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    return f"postgresql+asyncpg://{base}/{name}", drop


TEST_RECEIVER_HOST = "127.0.0.2"
"""A loopback address the test apps allow webhooks to name (``PMO_WEBHOOK_ALLOW_HOSTS``)."""
NOT_DATA = {"outbox", "rate_limit_counters"}
"""Tables that ``table_counts`` leaves out: bookkeeping, not what a request wrote."""


@dataclass
class StatementCounter:
    statements: list[str] = field(default_factory=list)
    active: bool = False

    @property
    def count(self) -> int:
        return len(self.statements)


@dataclass
class Api:
    """A running app on one backend, with a client per role."""

    backend: str
    app: FastAPI
    url: str
    http: httpx.AsyncClient
    counter: StatementCounter
    keys: dict[str, str] = field(default_factory=dict)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)

    def headers(self, role: str = "admin", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}", **extra}

    async def request(
        self, method: str, path: str, role: str = "admin", **kwargs: Any
    ) -> httpx.Response:
        headers = {**self.headers(role), **kwargs.pop("headers", {})}
        return await self.http.request(method, path, headers=headers, **kwargs)

    async def get(self, path: str, role: str = "admin", **kw: Any) -> httpx.Response:
        return await self.request("GET", path, role, **kw)

    async def post(self, path: str, role: str = "admin", **kw: Any) -> httpx.Response:
        return await self.request("POST", path, role, **kw)

    async def put(self, path: str, role: str = "admin", **kw: Any) -> httpx.Response:
        return await self.request("PUT", path, role, **kw)

    async def patch(self, path: str, role: str = "admin", **kw: Any) -> httpx.Response:
        return await self.request("PATCH", path, role, **kw)

    async def delete(self, path: str, role: str = "admin", **kw: Any) -> httpx.Response:
        return await self.request("DELETE", path, role, **kw)

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, role: str = "admin"
    ) -> dict[str, Any]:
        response = await self.post(
            "/graphql", role, json={"query": query, "variables": variables or {}}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    @contextmanager
    def count_statements(self, *, cold_auth: bool = True) -> Iterator[StatementCounter]:
        """Count SQL statements; by default the process forgets authenticated keys first,
        so the count includes the key look-up (a cold cache: the worst case)."""
        if cold_auth:
            principals._entries.clear()
        self.counter.statements.clear()
        self.counter.active = True
        try:
            yield self.counter
        finally:
            self.counter.active = False

    async def table_counts(self) -> dict[str, int]:
        """Row counts of every table: proof that nothing was written."""
        # The outbox follows audit_events row for row (a trigger; tests/test_webhooks.py
        # proves it) and the rate-limit counters count requests, not data.
        tables = sorted(set(metadata.tables) - NOT_DATA)
        counts = {}
        async with self.app.state.pmo.engine.connect() as connection:
            for table in tables:
                result = await connection.execute(text(f"SELECT count(*) FROM {table}"))
                counts[table] = int(result.scalar_one())
        return counts

    # Convenience creators used across tests
    async def make_person(self, **fields: Any) -> dict[str, Any]:
        body = {"name": "Test Person", "email": f"{uuid.uuid4().hex[:10]}@example.com", **fields}
        response = await self.post("/api/v1/people", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def make_portfolio(self, **fields: Any) -> dict[str, Any]:
        body = {"key": new_key("PF"), "name": "Test portfolio", **fields}
        response = await self.post("/api/v1/portfolios", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def make_webhook(self, **fields: Any) -> dict[str, Any]:
        body = {"url": f"http://{TEST_RECEIVER_HOST}:9/hook", "event_types": ["*"], **fields}
        response = await self.post("/api/v1/webhooks", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def make_project(
        self, portfolio_id: str | None = None, role: str = "admin", **fields: Any
    ) -> dict[str, Any]:
        if portfolio_id is None:
            portfolio_id = (await self.make_portfolio())["id"]
        body = {
            "key": new_key("PR"),
            "name": "Test project",
            "portfolio_id": portfolio_id,
            **fields,
        }
        response = await self.post("/api/v1/projects", role, json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())


async def start_api(
    backend: str, tmp: Path, rewrite_url: Any = None, **settings: Any
) -> tuple[Api, Any]:
    """A migrated database and a started app on it; ``rewrite_url`` lets a test route the
    app's connections (e.g. through a proxy it controls)."""
    url, drop = await create_database(backend, tmp)
    await asyncio.to_thread(migrate.upgrade, url)
    if rewrite_url is not None:
        url = rewrite_url(url)
    app = create_app(
        Settings(
            database_url=url,
            bootstrap_admin_key=ADMIN_KEY,
            auto_migrate=False,
            log_level="WARNING",
            # The compliance watch writes events on its own clock: the tests that want
            # it ask for it (table counts elsewhere prove nothing else was written).
            # The rate limits count every request, with budgets the suite's pace never
            # meets (tests/test_rate_limits.py sets small ones).
            **{
                "compliance_watch_seconds": 0,
                "webhook_worker": False,
                # Webhooks may name TEST_RECEIVER_HOST (no worker runs unless asked for).
                "webhook_allow_hosts": [TEST_RECEIVER_HOST],
                "rate_limit_rest_requests": 1_000_000_000,
                "rate_limit_graphql_cost": 1_000_000_000_000,
                **settings,
            },
        )
    )
    counter = StatementCounter()

    @event.listens_for(app.state.pmo.engine.sync_engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if counter.active:
            counter.statements.append(statement)

    def _count_read(statement: str) -> None:  # reads that bypass the engine (PostgreSQL)
        if counter.active:
            counter.statements.append(statement)

    app.state.pmo.reads.listen(_count_read)

    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    api = Api(backend=backend, app=app, url=url, http=http, counter=counter)
    api.keys["admin"] = ADMIN_KEY

    async def stop() -> None:
        await http.aclose()
        await lifespan.__aexit__(None, None, None)
        if drop is not None:
            await drop()

    return api, stop


async def _add_role_keys(api: Api) -> None:
    for role in ("pmo", "viewer"):
        response = await api.post("/api/v1/api-keys", json={"name": f"test {role}", "role": role})
        assert response.status_code == 201, response.text
        api.keys[role] = response.json()["secret"]
    for name in ("manager", "other_manager"):
        person = await api.make_person(name=name.replace("_", " ").title())
        api.people[name] = person
        response = await api.post(
            "/api/v1/api-keys",
            json={"name": f"test {name}", "role": "manager", "person_id": person["id"]},
        )
        assert response.status_code == 201, response.text
        api.keys[name] = response.json()["secret"]


@pytest_asyncio.fixture(scope="session", loop_scope="session", params=BACKENDS)
async def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    instance, stop = await start_api(request.param, tmp_path_factory.mktemp(request.param))
    await _add_role_keys(instance)
    try:
        yield instance
    finally:
        await stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
