"""Reads too large to hold: a statement's rows in batches, from a server-side cursor.

A list page is read whole (``db.reads``); an export is not. Its statement runs once, on
a connection of its own that it holds until the last row is read or the reader stops,
and its rows come ``batch`` at a time: a PostgreSQL cursor (asyncpg's portal in a
read-only transaction, ``batch`` rows per round trip) or SQLite's own stepping through
the statement (one statement is one snapshot in WAL mode; no transaction around it, so
the writer is not held up). What is in memory is one batch, whatever the size of the
result.

The connection is the engine's: one of the pool that the units of work share. So that
slow readers (a script pulling a large export over a slow link) can never hold the
whole pool and starve the writes, at most half the pool streams at once
(``StreamGate``); a stream that waits longer than the pool's timeout for its turn is
refused with 503 and Retry-After, as a write waiting for the pool is.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncResult

from pmo_api.db.errors import translate_db_errors, unavailable
from pmo_api.db.reads import FairGate, Row

Batches = AsyncIterator[list[Row]]
"""A stream's rows, a batch at a time (each a list of at most ``batch`` rows)."""

STREAM_OPTIONS: dict[str, dict[str, Any]] = {
    # A single statement: no BEGIN (the driver is in autocommit); the statement reads
    # its own snapshot for as long as it is stepped through.
    "sqlite": {"pmo_read_only": True, "pmo_single_read": True},
    # A cursor lives in a transaction: BEGIN READ ONLY, rolled back at the end.
    "postgresql": {"pmo_read_only": True, "postgresql_readonly": True},
}
"""Execution options of a stream's connection per dialect."""

_GATES: weakref.WeakKeyDictionary[Engine, FairGate] = weakref.WeakKeyDictionary()


def stream_gate(engine: AsyncEngine) -> FairGate:
    """The places for streams on ``engine``: half its pool, at least one."""
    sync = engine.sync_engine
    gate = _GATES.get(sync)
    if gate is None:
        size = getattr(sync.pool, "size", None)
        places = max(1, size() // 2) if callable(size) else 1
        gate = _GATES[sync] = FairGate(places)
    return gate


class RowStreams:
    """Opens streams of rows on ``engine`` (see the module's docstring); ``timeout``: how
    long a stream waits for its turn (the pool's own timeout)."""

    def __init__(self, engine: AsyncEngine, *, timeout: float) -> None:
        self.engine = engine
        self.timeout = timeout

    @contextlib.asynccontextmanager
    async def open(
        self, stmt: Select[Any], params: Mapping[str, Any] | None = None, *, batch: int
    ) -> AsyncIterator[Batches]:
        """The rows of ``stmt``, ``batch`` at a time, while the context is open.

        The statement has run when this is entered: a database that cannot be reached
        or a statement it refuses fails here, before a caller has answered anything.
        Leaving the context closes the cursor and gives the connection back, whether
        every row was read or not."""
        gate = stream_gate(self.engine)
        try:
            await gate.acquire(self.timeout)
        except TimeoutError:
            raise unavailable() from None
        try:
            async with contextlib.AsyncExitStack() as stack:
                with translate_db_errors():
                    connection = await stack.enter_async_context(self.engine.connect())
                    options = STREAM_OPTIONS.get(self.engine.dialect.name, {})
                    await connection.execution_options(**options)
                    result = await connection.stream(
                        stmt, dict(params or {}), execution_options={"yield_per": batch}
                    )
                stack.push_async_callback(result.close)
                batches = _batches(result)
                stack.push_async_callback(batches.aclose)
                yield batches
        finally:
            gate.release()


async def _batches(result: AsyncResult[Any]) -> AsyncGenerator[list[Row]]:
    async for partition in result.mappings().partitions():
        yield [dict(row) for row in partition]
