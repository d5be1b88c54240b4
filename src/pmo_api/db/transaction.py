"""Transaction helpers: the ONLY code that commits.

Every entry point (REST route, GraphQL operation, CLI command, worker) runs its
unit of work through ``unit_of_work`` and so commits exactly once. Services add
and flush; they never commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pmo_api.db.errors import translate_db_errors


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """Open a session, yield it, commit once on success, roll back on any error."""
    async with sessions() as session:
        with translate_db_errors():
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise


class OnDemand:
    """A unit of work whose session is opened only if something asks for it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self.session: AsyncSession | None = None

    def open(self) -> AsyncSession:
        if self.session is None:
            self.session = self._sessions()
        return self.session


@asynccontextmanager
async def unit_of_work_on_demand(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[OnDemand]:
    """``unit_of_work`` for a session that may never be opened: commits once if it was."""
    unit = OnDemand(sessions)
    try:
        with translate_db_errors():
            yield unit
            if unit.session is not None:
                await unit.session.commit()
    except BaseException:
        if unit.session is not None:
            await unit.session.rollback()
        raise
    finally:
        if unit.session is not None:
            await unit.session.close()


@asynccontextmanager
async def savepoint(session: AsyncSession) -> AsyncIterator[None]:
    """Run part of a unit of work so that a failure leaves nothing of it behind."""
    async with session.begin_nested():
        yield
