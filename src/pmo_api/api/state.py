"""What the running app holds: settings, engine and session factories."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from pmo_api.db.engine import pool_usage
from pmo_api.db.reads import Reads
from pmo_api.events.live import LiveHub
from pmo_api.limits.budget import RateLimiter
from pmo_api.settings import Settings
from pmo_api.telemetry import PoolUsage
from pmo_api.webhooks.worker import Worker


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
    reads: Reads
    """Where GET and HEAD requests read their rows (db/reads.py)."""
    live: LiveHub
    """Committed events for the GraphQL subscriptions, of every process (events/live.py)."""
    worker: Worker | None = None
    """The webhook delivery worker running in this process, if any."""
    limits: RateLimiter | None = None
    """The rate limits per API key (limits/), None when they are off."""

    @functools.cached_property
    def scope(self) -> str:
        """The database this app serves, as the key cache names it."""
        return str(self.engine.url)

    def pool_usage(self) -> dict[str, PoolUsage]:
        """The figures of the pools the app holds, by name (telemetry's ``Scraped``)."""
        usage = {}
        if (engine := pool_usage(self.engine)) is not None:
            usage["engine"] = engine
        if (reads := self.reads.pool_usage()) is not None:
            usage["reads"] = reads
        return usage
