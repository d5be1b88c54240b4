"""Operations: liveness, readiness, database outages answered with 503, masked 500s."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from pmo_api.projects.declaration import ProjectRepository
from tests.conftest import POSTGRES_URL, Api, start_api
from tests.tcp_proxy import TcpProxy
from tests.test_rest_conventions import assert_problem


async def test_healthz_and_readyz(api: Api) -> None:
    health = await api.http.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = await api.http.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


async def test_unexpected_errors_are_masked(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    async def explode(*_args: object) -> None:
        raise RuntimeError("SELECT secret FROM internals")

    monkeypatch.setattr(ProjectRepository, "get", explode)
    monkeypatch.setattr(ProjectRepository, "read", explode)  # the read path of a GET
    response = await api.get("/api/v1/projects/ABC-1")
    body = assert_problem(response, 500, "internal_error")
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert body["detail"].startswith("Something went wrong")


async def test_postgresql_outage_is_503_and_recovers(tmp_path: Path) -> None:
    """The network between the service and PostgreSQL is cut, then restored."""
    target = urlsplit(POSTGRES_URL)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()

    def through_proxy(url: str) -> str:
        parts = urlsplit(url)
        netloc = f"{parts.username}@127.0.0.1:{proxy.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    api, stop = await start_api("postgresql", tmp_path, rewrite_url=through_proxy)
    try:
        project = await api.make_project()
        await proxy.cut()
        started = time.monotonic()
        ready = await api.http.get("/readyz")
        assert_problem(ready, 503, "database_unavailable")
        assert ready.headers["retry-after"]
        assert time.monotonic() - started < 5
        assert (await api.http.get("/healthz")).status_code == 200
        read = await api.get(f"/api/v1/projects/{project['id']}")
        assert_problem(read, 503, "database_unavailable")
        assert read.headers["retry-after"]
        write = await api.patch(f"/api/v1/projects/{project['id']}", json={"name": "During"})
        assert_problem(write, 503, "database_unavailable")

        await proxy.start()
        assert (await api.http.get("/readyz")).status_code == 200
        after = await api.patch(f"/api/v1/projects/{project['id']}", json={"name": "After"})
        assert after.status_code == 200, after.text
        assert after.json()["version"] == 2
    finally:
        await proxy.cut()
        await stop()


async def test_connection_closed_while_opening_is_503(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection dropped while it is being opened surfaces as a plain DBAPIError
    whose cause is the socket's error: still a 503, never a 500."""
    from sqlalchemy.exc import DBAPIError

    class DriverError(Exception):
        pass

    async def dropped(*_args: object) -> None:
        try:
            raise ConnectionResetError("connection was closed in the middle of operation")
        except ConnectionResetError as socket_error:
            raise DBAPIError("connect", {}, DriverError("closed")) from socket_error

    monkeypatch.setattr(ProjectRepository, "get", dropped)
    monkeypatch.setattr(ProjectRepository, "read", dropped)  # the read path of a GET
    response = await api.get("/api/v1/projects/ABC-1")
    assert_problem(response, 503, "database_unavailable")
    assert response.headers["retry-after"]


async def test_a_served_app_is_frozen_and_collects_its_young_objects_less_often(
    tmp_path: Path,
) -> None:
    import gc

    from pmo_api.app import YOUNG_COLLECTION_THRESHOLD, create_app
    from pmo_api.settings import Settings

    before = gc.get_threshold()
    app = create_app(
        Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/pmo.db",
            bootstrap_admin_key="pmo_" + "f" * 40,
            log_level="ERROR",
        ),
        freeze_on_start=True,
    )
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, *before[1:])
            assert gc.get_freeze_count() > 0
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
        await app.state.pmo.engine.dispose()
