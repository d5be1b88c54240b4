"""ServiceContext: who calls, in which transaction, for which request, at what time."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession


class Role(enum.StrEnum):
    ADMIN = "admin"
    PMO = "pmo"
    MANAGER = "manager"
    VIEWER = "viewer"


@dataclass(frozen=True)
class Principal:
    """The caller: an API key with its role, and the person it speaks for (if any)."""

    key_id: uuid.UUID | None
    name: str
    role: Role
    person_id: uuid.UUID | None = None

    @property
    def is_system(self) -> bool:
        return self.key_id is None


SYSTEM = Principal(key_id=None, name="system", role=Role.ADMIN)


def utcnow() -> datetime:
    return datetime.now(UTC)


def latest_local_today(now: datetime) -> date:
    """The latest date that is "today" somewhere on Earth at ``now``: the UTC date plus
    one day (time zones run up to UTC+14). A date a caller states as past or today is
    refused only after it."""
    return (now.astimezone(UTC) + timedelta(days=1)).date()


@dataclass
class ServiceContext:
    session: AsyncSession
    principal: Principal
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    _now: datetime | None = None

    @property
    def now(self) -> datetime:
        """One clock reading per unit of work, so every row it touches agrees."""
        if self._now is None:
            self._now = utcnow()
        return self._now
