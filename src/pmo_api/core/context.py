"""ServiceContext: who calls, in which transaction, for which request, at what time."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

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


class RowReads(Protocol):
    """Read-only statements whose rows come back as dicts (``db.reads.Reads``)."""

    dialect_name: str

    async def all(
        self, stmt: Any, params: Mapping[str, Any] | None = None, *, for_json: bool = False
    ) -> list[dict[str, Any]]: ...

    async def first(
        self, stmt: Any, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None: ...


class ServiceContext:
    """Who calls, the unit of work's session, the request, one clock reading.

    The session may be opened on first use (``open_session``): a read-only request
    whose rows come from ``reads`` and whose caller is already known never opens one.
    """

    __slots__ = (
        "_now",
        "_open_session",
        "_session",
        "principal",
        "reads",
        "request_id",
        "staged",
    )

    def __init__(
        self,
        session: AsyncSession | None,
        principal: Principal,
        request_id: str | None = None,
        reads: RowReads | None = None,
        *,
        open_session: Callable[[], AsyncSession] | None = None,
        staged: list[Any] | None = None,
    ) -> None:
        if session is None and open_session is None:
            raise ValueError("a ServiceContext needs a session or a way to open one")
        self._session = session
        self._open_session = open_session
        self.principal = principal
        self.request_id = request_id or uuid.uuid4().hex
        self.reads = reads
        """Where a read-only request's rows come from (no session, no transaction);
        the ORM session serves when there is none."""
        self._now: datetime | None = None
        self.staged = staged
        """Rows a service added that the door writes when the work is done, all in one
        statement (``db.writes``); None: rows are written through the session."""

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            assert self._open_session is not None
            self._session = self._open_session()
        return self._session

    @property
    def now(self) -> datetime:
        """One clock reading per unit of work, so every row it touches agrees."""
        if self._now is None:
            self._now = utcnow()
        return self._now
