"""The reads authentication makes of API keys (the keys' own list and lookups are every
resource's: ``auth/declaration.py``)."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.auth.models import ApiKey
from pmo_api.core.context import RowReads
from pmo_api.db.reads import Row


@functools.cache
def _live_key() -> Select[Any]:
    """Built once: authentication runs it on every cold request."""
    return select(*ApiKey.__table__.columns).where(
        ApiKey.secret_hash == bindparam("digest"), ApiKey.revoked_at.is_(None)
    )


async def by_secret_hash(session: AsyncSession, digest: str, *, live: bool) -> ApiKey | None:
    """The key with this secret hash (``live``: only when it is not revoked)."""
    stmt = select(ApiKey).where(ApiKey.secret_hash == digest)
    if live:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    found: ApiKey | None = await session.scalar(stmt)
    return found


async def read_live_key(reads: RowReads, digest: str) -> Row | None:
    """``by_secret_hash(live=True)`` as a row (``db.reads``)."""
    return await reads.first(_live_key(), {"digest": digest})
