"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import QueuePool

from pmo_api.settings import Settings
from pmo_api.telemetry import PoolUsage

SQLITE_BUSY_TIMEOUT_MS = 5000
POOL_RECYCLE_SECONDS = 1800


def _document_value(value: Any) -> Any:
    """What orjson does not write itself: money in a document (a template's planned
    budget) as the number the API shows (two decimals: exact as a float)."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def dumps(value: Any) -> str:
    return orjson.dumps(value, default=_document_value).decode()


_JSON_CODECS: dict[str, Any] = {"json_serializer": dumps, "json_deserializer": orjson.loads}
"""JSON columns (attributes, audit changes, skills) through orjson, not the stdlib."""


READ_OPTIONS: dict[str, dict[str, Any]] = {
    "sqlite": {"pmo_read_only": True},
    "postgresql": {"pmo_read_only": True, "isolation_level": "AUTOCOMMIT"},
}
"""Execution options of read-only work per dialect (see make_read_sessionmaker)."""


def make_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **_JSON_CODECS,
        )
        _tune_sqlite(engine)
        return engine
    return create_async_engine(
        settings.database_url,
        # A fixed pool: no overflow connections opened and closed under a burst (each
        # one a TCP + TLS-probe + auth handshake). A request uses one connection at a
        # time, so waiting for a pooled one cannot deadlock; past db_timeout_seconds
        # the wait is a 503 with Retry-After.
        pool_size=settings.db_pool_size,
        max_overflow=0,
        pool_timeout=settings.db_timeout_seconds,
        # No pre-ping: it costs three round trips on every check-out (asyncpg's ping
        # opens and rolls back a transaction). A connection that died meanwhile fails
        # its first statement instead; SQLAlchemy then invalidates it and every older
        # pooled connection, and the request is answered 503 with Retry-After (see
        # db/errors.py), the same answer a request gets while the database is down.
        # tests/faults/ holds that to account (server restarts, killed backends).
        pool_pre_ping=False,
        # Connections older than this are replaced at check-out, before a firewall or
        # server idle timeout drops them silently.
        pool_recycle=POOL_RECYCLE_SECONDS,
        connect_args={
            "timeout": settings.db_timeout_seconds,
            "command_timeout": 30,
            # JIT compilation pays off for long analytic queries; for this service's
            # short ones it only adds tens of milliseconds whenever a plan's estimated
            # cost crosses jit_above_cost (e.g. a rollup over a large portfolio).
            "server_settings": {"application_name": "pmo-api", "jit": "off"},
        },
        **_JSON_CODECS,
    )


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets readers run beside one writer; foreign keys are off by default in SQLite.
        # Autocommit off at the driver level so SQLAlchemy controls BEGIN (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer's BEGIN IMMEDIATE takes the write lock up front, so two writers queue
        # on busy_timeout instead of failing with "database is locked" when a read lock
        # is upgraded; readers (sessions made by read_sessionmaker) begin deferred.
        # A single read (db/reads.py) needs no transaction at all: the driver is in
        # autocommit, so the statement reads its own snapshot.
        options = connection.get_execution_options()
        if options.get("pmo_single_read", False):
            return
        connection.exec_driver_sql(
            "BEGIN" if options.get("pmo_read_only", False) else "BEGIN IMMEDIATE"
        )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def make_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for safe requests (GET/HEAD): same pool, no write lock.

    SQLite: a deferred BEGIN (readers run beside the one writer). PostgreSQL:
    autocommit, i.e. no BEGIN and no COMMIT around the reads: two round trips fewer
    per request. Each statement then reads its own snapshot, which is what a REST read
    promises anyway: the key check and the page are consistent on their own, and a
    walk's consistency comes from keyset cursors, not from a transaction.
    """
    return async_sessionmaker(
        engine.execution_options(**READ_OPTIONS[engine.dialect.name]),
        expire_on_commit=False,
        autoflush=False,
    )


def pool_usage(engine: AsyncEngine) -> PoolUsage | None:
    """The engine's pool figures (the metrics), when its pool keeps connections."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return None
    return PoolUsage(
        size=pool.size(),
        checked_out=pool.checkedout(),
        # Counted from -size: negative while fewer than size connections are open.
        overflow=max(pool.overflow(), 0),
    )
