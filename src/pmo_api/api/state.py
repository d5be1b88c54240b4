"""What the running app holds: settings, engine and session factories."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from pmo_api.db.reads import Reads
from pmo_api.settings import Settings


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
    reads: Reads
    """Where GET and HEAD requests read their rows (db/reads.py)."""

    @functools.cached_property
    def scope(self) -> str:
        """The database this app serves, as the key cache names it."""
        return str(self.engine.url)
