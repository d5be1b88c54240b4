"""Reads outside the ORM: a statement's rows as plain dicts, on a connection of their own.

What a GET answers is read here: no session, no identity map, no transaction round
trips (PostgreSQL's reads run in autocommit; SQLite's in a deferred transaction, so
readers run beside the one writer). The statements are ordinary SQLAlchemy Core (or
ORM-enabled) selects; the rows come back as ``dict``s keyed by column name, with the
column types' conversions applied (exact money, UTC timestamps, enums), ready for a
pydantic ``Read`` schema.

On PostgreSQL the rows come straight from asyncpg: each statement shape is compiled
once per process (found by SQLAlchemy's cache key, as SQLAlchemy's own compiled cache
does; a statement a repository builds once carries its key, so finding it is free),
prepared once per connection (asyncpg's statement cache), and run with its parameters
in order. The connections are held through ``FairGate`` and kept in
``IdleConnections``, without asyncpg's pool: nothing here changes a session's state, so
a connection given back needs no reset (``RESET ALL``, ``UNLISTEN``...: a round trip per
request). On SQLite, where the work runs in the process anyway, the same statements go
through SQLAlchemy's engine.

A database that cannot be reached raises the driver's own errors (connection refused,
connection closed, pool timeout); ``db.errors.is_unavailable`` knows them, and the
doors answer 503 with Retry-After.
"""

from __future__ import annotations

import abc
import asyncio
import collections
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, NamedTuple

import asyncpg
import orjson
from sqlalchemy import ARRAY, JSON, Enum, Float, Select, Text, Uuid, cast
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from pmo_api.db.base import Money, UTCDateTime
from pmo_api.db.engine import READ_OPTIONS, dumps
from pmo_api.telemetry import PoolUsage

StatementListener = Callable[[str], None]
Row = dict[str, Any]
MAX_COMPILED = 1000
"""Compiled statement shapes kept per process (a bound on memory, far above the need)."""


class Reads(abc.ABC):
    """Runs read-only statements; see the module's docstring."""

    dialect_name: str
    """The database's dialect (``postgresql``, ``sqlite``): for the few statements that
    are written differently where one database has a construct the other lacks."""

    @abc.abstractmethod
    async def all(
        self, stmt: Select[Any], params: Mapping[str, Any] | None = None, *, for_json: bool = False
    ) -> list[Row]:
        """The rows of ``stmt``. ``for_json``: rows that go nowhere but into a JSON body
        (a REST list page); a reader may then hand back values that print the same and
        cost less to decode and to print (see ``PostgresReads``)."""

    async def first(self, stmt: Select[Any], params: Mapping[str, Any] | None = None) -> Row | None:
        rows = await self.all(stmt, params)
        return rows[0] if rows else None

    def listen(self, listener: StatementListener) -> None:  # noqa: B027 - a default
        """Call ``listener`` with the SQL of each statement run here and not through the
        engine (statement counts in tests). By default none is: the engine's own events
        see every statement."""

    async def close(self) -> None:  # noqa: B027 - a default: most readers hold nothing
        """Release what the reader holds."""

    def pool_usage(self) -> PoolUsage | None:
        """The connections of its own (the metrics), if it keeps any."""
        return None


class SessionReads(Reads):
    """On an ORM session's connection, inside its transaction: for the work that already
    holds one (a GraphQL operation, a command, a write that reads back)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect_name = session.get_bind().dialect.name

    async def all(
        self, stmt: Select[Any], params: Mapping[str, Any] | None = None, *, for_json: bool = False
    ) -> list[Row]:
        result = await self.session.execute(stmt, dict(params or {}))
        return [dict(row) for row in result.mappings()]


class EngineReads(Reads):
    """Through SQLAlchemy's engine (SQLite): its own statement cache and conversions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.dialect_name = engine.dialect.name
        self.engine = engine.execution_options(
            **READ_OPTIONS.get(engine.dialect.name, {}), pmo_single_read=True
        )

    async def all(
        self, stmt: Select[Any], params: Mapping[str, Any] | None = None, *, for_json: bool = False
    ) -> list[Row]:
        async with self.engine.connect() as connection:
            result = await connection.execute(stmt, dict(params or {}))
            return [dict(row) for row in result.mappings()]


_NATIVE_ON_ASYNCPG = (UTCDateTime, Money, Enum)
"""Column types whose values asyncpg already returns as the service uses them: UTC
timestamps (``timestamptz`` comes back aware, in UTC), money (``NUMERIC(14,2)`` comes
back a ``Decimal`` with two places), and string enums (their ``str`` value, which the
``StrEnum`` compares equal to and the schemas accept). Converting them again costs a
call per value and changes nothing."""


def _item_processor(array: ARRAY[Any], dialect: Dialect) -> Any:
    return array.item_type.dialect_impl(dialect).bind_processor(dialect)


def _convert(processor: Callable[[Any], Any] | None, value: Any) -> Any:
    return value if processor is None or value is None else processor(value)


class _Fixed(NamedTuple):
    """A statement's SQL with its own values in place: ``_Compiled.fixed``."""

    sql: str
    binds: list[tuple[str, Any]]
    values: dict[str, Any]
    expanded: frozenset[str]
    """The parameters expanded into the SQL (``IN`` lists): a request that gives one of
    them needs the SQL made again."""


class _Compiled:
    """A statement compiled once: its SQL, where each parameter goes, how each
    parameter and each column is converted."""

    __slots__ = ("binds", "columns", "compiled", "dialect", "expanding", "sql")

    def __init__(self, stmt: Select[Any], dialect: Dialect, cache_key: Any = None) -> None:
        compiled = stmt._compiler(dialect, cache_key=cache_key)
        self.compiled = compiled
        self.dialect = dialect
        self.sql = compiled.string
        processors = dict(compiled._bind_processors)
        for bind, name in compiled.bind_names.items():
            if bind.type._type_affinity is JSON:  # encoded by the connection's codec
                processors.pop(name, None)
            elif isinstance(bind.type, ARRAY) and not _item_processor(bind.type, dialect):
                # An array of values asyncpg takes as they are (UUIDs): SQLAlchemy's
                # processor would only walk the list to hand back the same items.
                processors.pop(name, None)
        self.binds: list[tuple[str, Any]] = [
            (name, processors.get(name)) for name in compiled.positiontup or ()
        ]
        self.expanding = bool(compiled.post_compile_params or compiled.literal_execute_params)
        """Whether the SQL depends on the parameters (``IN`` lists)."""
        self.columns: list[tuple[str, Any]] | None = None
        """Known after the first run, from the column types the server reports."""

    def learn_columns(self, attributes: Sequence[Any]) -> None:
        columns = []
        for entry, attribute in zip(self.compiled._result_columns, attributes, strict=True):
            processor = None
            if not isinstance(entry.type, _NATIVE_ON_ASYNCPG):
                processor = entry.type._cached_result_processor(self.dialect, attribute.type.oid)
            columns.append((entry.keyname, processor))
        self.columns = columns

    def fixed(self, extracted: Sequence[Any] | None) -> _Fixed | None:
        """The values a statement holds (``extracted``: its own, when it shares this
        compiled form), by parameter name, and with them its SQL when it has ``IN``
        lists (expanded once: their values are the statement's own); None when a value
        is computed as the statement runs."""
        if any(b.callable is not None for b in self.compiled.binds.values()):
            return None
        values = self.compiled.construct_params(
            {}, extracted_parameters=extracted, _check=False, _no_postcompile=True
        )
        if not self.expanding:
            return _Fixed(self.sql, self.binds, dict(values), frozenset())
        try:
            state = self.compiled._process_parameters_for_postcompile(values)
        except Exception:  # an IN list whose values the request gives (a list filter)
            return None
        names = self.compiled.bind_names
        return _Fixed(
            state.statement,
            [(name, state.processors.get(name)) for name in state.positiontup or ()],
            dict(state.parameters),
            frozenset(
                names[bind]
                for bind in (
                    *self.compiled.post_compile_params,
                    *self.compiled.literal_execute_params,
                )
            ),
        )

    def arguments(
        self,
        params: Mapping[str, Any],
        extracted: Sequence[Any] | None,
        fixed: _Fixed | None = None,
    ) -> tuple[str, list[Any]]:
        """The SQL to run and its positional arguments. ``extracted``: the values of the
        statement at hand when it shares its compiled form with another (cache key);
        ``fixed``: what ``fixed`` made of them, when known."""
        if fixed is not None and not (fixed.expanded and fixed.expanded & params.keys()):
            # The statement's own values and the request's: no need for SQLAlchemy to
            # assemble them (a report's statement holds its rules' params and the day,
            # and IN lists of its own).
            given = {**fixed.values, **params} if params else fixed.values
            return fixed.sql, [_convert(p, given[name]) for name, p in fixed.binds]
        if not self.expanding and params:
            # Every parameter given by name (a statement built once with bindparams):
            # no need for SQLAlchemy to assemble them.
            try:
                return self.sql, [_convert(p, params[name]) for name, p in self.binds]
            except KeyError:
                pass
        values = self.compiled.construct_params(
            dict(params), extracted_parameters=extracted, _check=False, _no_postcompile=True
        )
        if self.expanding:
            state = self.compiled._process_parameters_for_postcompile(values)
            processors: Mapping[str, Any] = state.processors
            expanded = state.parameters
            return state.statement, [
                _convert(processors.get(name), expanded[name]) for name in state.positiontup or ()
            ]
        return self.sql, [_convert(processor, values[name]) for name, processor in self.binds]

    def rows(self, records: Sequence[asyncpg.Record]) -> list[Row]:
        columns = self.columns
        assert columns is not None
        names = [name for name, _ in columns]
        if not any(processor for _, processor in columns):
            return [dict(zip(names, record)) for record in records]  # noqa: B905 - same statement
        out = []
        for record in records:
            row = {}
            for (name, processor), value in zip(columns, record, strict=True):
                row[name] = value if processor is None or value is None else processor(value)
            out.append(row)
        return out


class FairGate:
    """At most ``size`` holders at once, served strictly in the order they came.

    asyncpg's pool hands its connections out through an ``asyncio.Queue``, whose waiters
    can be overtaken: a connection given back wakes the first waiter, but a request
    arriving before that waiter runs takes the connection, and the waiter queues again
    at the back. Under load (more requests than connections) a few requests are
    overtaken again and again: in the benchmark, 1.6 % of the list's requests waited
    200 to 600 ms while the median waited 18. In front of the pool, this gate hands a
    freed place straight to the longest waiter, so a connection is free for whoever
    holds a place, and nobody is overtaken."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def held(self) -> int:
        return self.size - self._free

    @property
    def waiting(self) -> int:
        return sum(not waiter.done() for waiter in self._waiters)

    def try_acquire(self) -> bool:
        """A place at once if one is free and nobody waits (no timer, no future)."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        return False

    async def acquire(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 - measured
        """A place, waiting in turn; TimeoutError after ``timeout`` seconds. (The timer
        is the loop's own, on the waiter: ``asyncio.timeout`` around the wait cost a
        twentieth of a single read's CPU under load.)"""
        if self.try_acquire():
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        timer = None if timeout is None else loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.release()  # handed a place, then cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the place goes to it, never back to the pool
                return
        self._free += 1


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class IdleConnections:
    """The connections of the reads that nobody holds, most recently used first.

    The pool behind ``FairGate``: the gate already bounds how many are held and serves
    the waiters in turn, so what is left is a stack. (asyncpg's own pool wraps each
    release in ``asyncio.shield``, a task per request, and its acquire in a queue and a
    timeout context: a tenth of a single read's CPU.) A connection found closed is
    dropped; one idle for longer than ``max_idle`` seconds is closed rather than reused
    (a firewall or PostgreSQL may have dropped it)."""

    def __init__(self, max_idle: float = 300.0) -> None:
        self.max_idle = max_idle
        self._idle: list[tuple[asyncpg.Connection, float]] = []
        self._closed = False

    async def take(
        self, connect: Callable[[], Awaitable[asyncpg.Connection]]
    ) -> asyncpg.Connection:
        if self._closed:
            raise asyncpg.InterfaceError("the reads are closed")
        idle = self._idle
        now = time.monotonic()
        while idle:
            connection, since = idle.pop()
            if connection.is_closed():
                continue
            if now - since > self.max_idle:
                connection.terminate()
                continue
            return connection
        return await connect()

    def give_back(self, connection: asyncpg.Connection) -> None:
        if self._closed:
            connection.terminate()
        elif not connection.is_closed():
            self._idle.append((connection, time.monotonic()))

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 5)
            connection.terminate()


async def _init_connection(connection: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name,
            encoder=dumps,
            decoder=orjson.loads,
            schema="pg_catalog",
        )


class PostgresReads(Reads):
    """Straight on asyncpg; see the module's docstring."""

    def __init__(self, dsn: str, dialect: Dialect, *, pool_size: int, timeout: float) -> None:
        self.dsn = dsn
        self.dialect = dialect
        self.dialect_name = dialect.name
        self.pool_size = pool_size
        self.timeout = timeout
        self._idle = IdleConnections()
        self._by_key: dict[Any, _Compiled] = {}
        self._by_identity: dict[
            int, tuple[Select[Any], _Compiled, Sequence[Any], _Fixed | None]
        ] = {}
        self._printables: dict[int, tuple[Select[Any], Select[Any]]] = {}
        self._listeners: list[StatementListener] = []
        self._gate = FairGate(pool_size)

    def listen(self, listener: StatementListener) -> None:
        self._listeners.append(listener)

    async def _connect(self) -> asyncpg.Connection:
        connection = await asyncpg.connect(
            self.dsn,
            timeout=self.timeout,
            command_timeout=30,
            server_settings={
                "application_name": "pmo-api",
                "jit": "off",
                # Every statement here is prepared once per connection and run with
                # parameters of the same shape thousands of times: planned once,
                # generic, rather than re-planned while PostgreSQL weighs a custom plan
                # (a list page's PostgreSQL CPU 0.90 -> 0.84 ms).
                "plan_cache_mode": "force_generic_plan",
            },
        )
        try:
            await _init_connection(connection)
        except BaseException:
            connection.terminate()
            raise
        return connection

    def _compile(self, stmt: Select[Any]) -> tuple[_Compiled, Sequence[Any] | None, _Fixed | None]:
        """The compiled form of ``stmt``, the values it holds when it shares its form
        with the statement that was compiled, and those values by name (``fixed``).

        A statement seen before is found by identity: hashing its cache key (a nested
        tuple as large as the statement, whose hash Python does not keep) costs more
        than the rest of a small read. The entry holds the statement, so its id is not
        reused while it is there."""
        seen = self._by_identity.get(id(stmt))
        if seen is not None:
            return seen[1], seen[2], seen[3]
        key = stmt._generate_cache_key()
        if key is None:  # a construct that cannot be cached: compiled each time
            return _Compiled(stmt, self.dialect), None, None
        compiled = self._by_key.get(key.key)
        if compiled is None:
            if len(self._by_key) >= MAX_COMPILED:
                self._by_key.clear()
            compiled = self._by_key[key.key] = _Compiled(stmt, self.dialect, key)
        if len(self._by_identity) >= MAX_COMPILED:
            self._by_identity.clear()
        fixed = compiled.fixed(key.bindparams)
        self._by_identity[id(stmt)] = (stmt, compiled, key.bindparams, fixed)
        return compiled, key.bindparams, fixed

    def _printable(self, stmt: Select[Any]) -> Select[Any]:
        """``stmt`` with its UUIDs read as text and its money as double precision: the
        values a JSON body prints (``str(uuid)``, ``float(money)``), made by PostgreSQL.
        asyncpg decodes text and doubles in C, and orjson prints them without a call
        back into Python; a list page of projects spent a tenth of its CPU on those
        conversions. A NUMERIC(14,2) has at most 14 digits, so its double prints the
        same digits (``float(Decimal)`` and PostgreSQL's cast both round correctly)."""
        seen = self._printables.get(id(stmt))
        if seen is not None:
            return seen[1]
        columns = [_printable_column(column) for column in stmt.selected_columns]
        printable = stmt.with_only_columns(*columns, maintain_column_froms=True)
        if len(self._printables) >= MAX_COMPILED:
            self._printables.clear()
        self._printables[id(stmt)] = (stmt, printable)
        return printable

    async def all(
        self, stmt: Select[Any], params: Mapping[str, Any] | None = None, *, for_json: bool = False
    ) -> list[Row]:
        compiled, extracted, fixed = self._compile(self._printable(stmt) if for_json else stmt)
        sql, arguments = compiled.arguments(params or {}, extracted, fixed)
        for listener in self._listeners:
            listener(sql)
        if not self._gate.try_acquire():
            await self._gate.acquire(self.timeout)
        try:
            # A place in the gate is a connection of one's own (the gate is as wide as
            # the pool): taken from the idle ones, or opened.
            connection = await self._idle.take(self._connect)
            try:
                if compiled.columns is None:
                    prepared = await connection.prepare(sql)
                    compiled.learn_columns(prepared.get_attributes())
                records = await connection.fetch(sql, *arguments)
            except asyncpg.PostgresError:
                self._idle.give_back(connection)  # the server refused the statement
                raise
            except BaseException:
                # A connection that failed mid-statement (its server process killed,
                # the request cancelled) could still have its protocol busy: close it;
                # the next holder opens a fresh one.
                connection.terminate()
                raise
            self._idle.give_back(connection)
        finally:
            self._gate.release()
        return compiled.rows(records)

    def pool_usage(self) -> PoolUsage:
        gate = self._gate
        return PoolUsage(size=gate.size, checked_out=gate.held, waiting=gate.waiting)

    async def close(self) -> None:
        await self._idle.close()


def _printable_column(column: Any) -> Any:
    kind = column.type
    if isinstance(kind, Uuid):
        return cast(column, Text).label(column.key)
    if isinstance(kind, Money):
        return cast(column, Float).label(column.key)
    return column


def make_reads(engine: AsyncEngine, *, pool_size: int, timeout: float) -> Reads:
    if engine.dialect.name != "postgresql":
        return EngineReads(engine)
    url = engine.url.set(drivername="postgresql")
    return PostgresReads(
        url.render_as_string(hide_password=False),
        engine.dialect,
        pool_size=pool_size,
        timeout=timeout,
    )
