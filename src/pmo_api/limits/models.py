"""The counters of the PostgreSQL backend: one row per policy and subject (an API key),
holding the current window's start and what has been spent in it. A charge is one
upsert (``counters.PostgresCounter``); a new window overwrites the old one, so the table
never grows beyond one row per key and policy. SQLite never uses it (each process
counts on its own there), but has the table all the same: one schema for both."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Base


class RateLimitCounter(Base):
    __tablename__ = "rate_limit_counters"

    policy: Mapped[str] = mapped_column(String(20), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, nullable=False)
    """When the key's current window began: milliseconds since the epoch, by PostgreSQL's
    clock (the same for every process, whatever their machines' clocks say)."""
    used: Mapped[int] = mapped_column(BigInteger, nullable=False)
