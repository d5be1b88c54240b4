"""Every query on API keys."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Select, bindparam, select

from pmo_api.auth.models import ApiKey
from pmo_api.auth.schemas import ApiKeyFilter
from pmo_api.core.context import Principal, RowReads
from pmo_api.core.pagination import Page, PageRequest
from pmo_api.db.reads import Row
from pmo_api.db.repository import Repository


@functools.cache
def _live_key() -> Select[Any]:
    """Built once: authentication runs it on every cold request."""
    return select(*ApiKey.__table__.columns).where(
        ApiKey.secret_hash == bindparam("digest"), ApiKey.revoked_at.is_(None)
    )


class ApiKeyRepository(Repository[ApiKey]):
    """Keys are an admin's business; the service checks the role before any read."""

    entity = "api_key"
    model = ApiKey
    sortable = {
        "created_at": ApiKey.created_at,
        "updated_at": ApiKey.updated_at,
        "name": ApiKey.name,
    }

    async def by_secret_hash(self, digest: str, *, live: bool) -> ApiKey | None:
        """The key with this secret hash (``live``: only when it is not revoked)."""
        stmt = select(ApiKey).where(ApiKey.secret_hash == digest)
        if live:
            stmt = stmt.where(ApiKey.revoked_at.is_(None))
        found: ApiKey | None = await self.session.scalar(stmt)
        return found

    @staticmethod
    async def read_live_key(reads: RowReads, digest: str) -> Row | None:
        """``by_secret_hash(live=True)`` as a row (``db.reads``)."""
        return await reads.first(_live_key(), {"digest": digest})

    async def list(
        self, principal: Principal, filters: ApiKeyFilter, page: PageRequest
    ) -> Page[ApiKey]:
        stmt = self.visible_to(principal)
        if filters.role is not None:
            stmt = stmt.where(ApiKey.role == filters.role)
        if filters.person_id is not None:
            stmt = stmt.where(ApiKey.person_id == filters.person_id)
        if filters.revoked is not None:
            column = ApiKey.revoked_at
            stmt = stmt.where(column.is_not(None) if filters.revoked else column.is_(None))
        if filters.updated_since is not None:
            stmt = stmt.where(ApiKey.updated_at >= filters.updated_since)
        return await self.page(stmt, page)
