"""The shared counters of the rate limits: Redis, or PostgreSQL's ``rate_limit_counters``.

Each charge is one round trip: a Lua script on Redis (``INCRBY``, and ``PEXPIRE`` when
it opened the window), one upsert on PostgreSQL. Both read the time from the server
that keeps the count, so processes on machines whose clocks differ share one window.
A call that takes longer than ``TIMEOUT_SECONDS`` fails (and ``RateLimiter`` counts
in the process for a while, see ``budget.py``).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import redis.asyncio as redis

from pmo_api.db.reads import FairGate, IdleConnections
from pmo_api.limits.budget import Counter, Policy, ProcessCounter, RateLimiter
from pmo_api.settings import Settings

TIMEOUT_SECONDS = 1.0
"""Longest a charge waits for its counter (connecting included)."""
CONNECTIONS = 4
"""Connections a process keeps to its shared counter: a charge holds one for a single
round trip of well under a millisecond."""
REDIS_PREFIX = "pmo-api:rate:"

SPEND_SCRIPT = """
local used = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {used, ttl}
"""
"""Add to a key's count; a count that has no expiry yet (just made) lives for the
window. Answers the count and the milliseconds it has left."""


class RedisCounter:
    def __init__(self, url: str) -> None:
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=CONNECTIONS,
            timeout=TIMEOUT_SECONDS,
            socket_timeout=TIMEOUT_SECONDS,
            socket_connect_timeout=TIMEOUT_SECONDS,
        )
        self.client = redis.Redis(connection_pool=pool)
        self.script = self.client.register_script(SPEND_SCRIPT)

    async def spend(self, policy: Policy, subject: str, amount: int) -> tuple[int, float]:
        key = f"{REDIS_PREFIX}{policy.name}:{subject}"
        used, ttl = await self.script(keys=[key], args=[amount, policy.window * 1000])
        return int(used), int(ttl) / 1000

    async def close(self) -> None:
        await self.client.aclose()
        await self.client.connection_pool.disconnect()


SPEND_SQL = """
INSERT INTO rate_limit_counters AS c (policy, subject, window_start, used)
VALUES ($1, $2, (extract(epoch FROM clock_timestamp()) * 1000)::bigint, $3)
ON CONFLICT (policy, subject) DO UPDATE SET
  used = CASE WHEN c.window_start > excluded.window_start - $4
    THEN c.used + excluded.used ELSE excluded.used END,
  window_start = CASE WHEN c.window_start > excluded.window_start - $4
    THEN c.window_start ELSE excluded.window_start END
RETURNING used, window_start + $4 - (extract(epoch FROM clock_timestamp()) * 1000)::bigint
"""
"""One key's charge in one statement: the row of its policy and key is made, added to
(while its window is open: it began less than a window ago), or started afresh."""


class PostgresCounter:
    """On connections of its own (asyncpg, autocommit), apart from the engine's and
    the reads': a charge never waits behind a request's queries, nor they behind it."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._gate = FairGate(CONNECTIONS)
        self._idle = IdleConnections()

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self.dsn,
            timeout=TIMEOUT_SECONDS,
            command_timeout=TIMEOUT_SECONDS,
            server_settings={
                "application_name": "pmo-api rate limits",
                "synchronous_commit": "off",
            },
        )

    async def spend(self, policy: Policy, subject: str, amount: int) -> tuple[int, float]:
        if not self._gate.try_acquire():
            await self._gate.acquire(TIMEOUT_SECONDS)
        try:
            connection = await self._idle.take(self._connect)
            try:
                row: Any = await connection.fetchrow(
                    SPEND_SQL, policy.name, subject, amount, policy.window * 1000
                )
            except asyncpg.PostgresError:
                self._idle.give_back(connection)
                raise
            except BaseException:
                connection.terminate()  # its protocol may be mid-statement
                raise
            self._idle.give_back(connection)
        finally:
            self._gate.release()
        return int(row[0]), max(0, int(row[1])) / 1000

    async def close(self) -> None:
        await self._idle.close()


def make_limiter(settings: Settings) -> RateLimiter | None:
    """The deployment's rate limits (None when ``PMO_RATE_LIMITS`` is off)."""
    if not settings.rate_limits:
        return None
    window = settings.rate_limit_window_seconds
    rest = Policy("rest", settings.rate_limit_rest_requests, window)
    graphql = Policy("graphql", settings.rate_limit_graphql_cost, window)
    counter: Counter
    if settings.redis_url is not None:
        counter, where = RedisCounter(settings.redis_url.get_secret_value()), "redis"
    elif not settings.is_sqlite:
        dsn = "postgresql://" + settings.database_url.split("://", 1)[1]
        counter, where = PostgresCounter(dsn), "postgresql"
    else:
        counter, where = ProcessCounter(), "process"
    return RateLimiter(rest, graphql, counter, where)
