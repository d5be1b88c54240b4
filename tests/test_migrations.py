"""Migrations are reviewed code: they run both ways on both databases, and they
build exactly the schema the models declare."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, pool
from sqlalchemy.ext.asyncio import create_async_engine

from pmo_api.db import migrate
from pmo_api.migrations.metadata import SEARCH_INDEXES, include_object, metadata
from tests.conftest import create_database


async def _on_sync_connection(url: str, work: Any) -> Any:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


def _tables(connection: Connection) -> set[str]:
    """The tables, but for the search index's own (SQLite's FTS5 tables)."""
    names = set(inspect(connection).get_table_names()) - {"alembic_version"}
    return {name for name in names if not name.startswith(SEARCH_INDEXES)}


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _pending_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": include_object}
    )
    return list(compare_metadata(context, metadata))


def _head() -> str | None:
    return ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()


async def test_upgrade_downgrade_upgrade(backend: str, tmp_path: Path) -> None:
    url, drop = await create_database(backend, tmp_path)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        assert await _on_sync_connection(url, _tables) == set(metadata.tables)
        assert await _on_sync_connection(url, _revision) == _head()

        await asyncio.to_thread(migrate.downgrade, url, "base")
        assert await _on_sync_connection(url, _tables) == set()
        assert await _on_sync_connection(url, _revision) is None

        await asyncio.to_thread(migrate.upgrade, url)
        assert await _on_sync_connection(url, _tables) == set(metadata.tables)
        assert await _on_sync_connection(url, _revision) == _head()
    finally:
        if drop is not None:
            await drop()


async def test_models_match_migrations(backend: str, tmp_path: Path) -> None:
    url, drop = await create_database(backend, tmp_path)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        diff = await _on_sync_connection(url, _pending_diff)
        assert diff == [], (
            "the models and the migrations disagree; add a revision "
            "(alembic revision --autogenerate -m '...') and review it:\n"
            + "\n".join(map(repr, diff))
        )
    finally:
        if drop is not None:
            await drop()
