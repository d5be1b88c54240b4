"""The append-only event table (the audit trail, and what the outbox points at) and the
outbox queue: the events not yet handed to the webhook dispatcher.

Every event row gets its outbox entry **from the database**, in the statement that
inserts the event (a trigger on ``audit_events``, created by migration 0025 on both
databases): no code path can record an event and forget the outbox, and an event
rolled back takes its entry with it. The dispatcher (``webhooks/dispatch.py``) claims
entries in ``seq`` order, fans each out to the subscriptions it matches and deletes it,
in one transaction; the queue so stays as small as the backlog.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Base, JSONDocument


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity", "entity_type", "entity_id", "occurred_at"),
        Index("ix_audit_events_occurred_at_id", "occurred_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    occurred_at: Mapped[datetime] = mapped_column(nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    entity_type: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    entity_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The record's version after the change, when it has one."""
    actor_key_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True, index=True)
    actor_name: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(16), nullable=False)
    request_id: Mapped[str] = mapped_column(String(128), nullable=False)
    changes: Mapped[dict[str, Any]] = mapped_column(JSONDocument, nullable=False)


class OutboxEntry(Base):
    """An event committed but not yet dispatched (written by the trigger, see above)."""

    __tablename__ = "outbox"
    # Never reuse a seq once its entry is dispatched and deleted (SQLite would hand
    # out max + 1 again): deliveries of one record are sent in seq order.
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("audit_events.id", ondelete="CASCADE"), nullable=False, unique=True
    )
