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


@asynccontextmanager
async def savepoint(session: AsyncSession) -> AsyncIterator[None]:
    """Run part of a unit of work so that a failure leaves nothing of it behind."""
    async with session.begin_nested():
        yield
