"""Webhook subscriptions and their deliveries.

A delivery is one event (or a ping) owed to one subscription: its body is fixed when
it is made, so every attempt sends the same bytes under the same ``webhook-id``; its
attempts are kept on it (``attempts``: when, the answer's status, the latency, what
failed), newest last. Deliveries are kept 30 days (``worker.prune``).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Archivable, Base, Entity, JSONDocument, string_enum


class Webhook(Entity, Archivable, Base):
    __tablename__ = "webhooks"

    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    event_types: Mapped[list[str]] = mapped_column(JSONDocument, nullable=False)
    portfolio_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("portfolios.id"), nullable=True, index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    secret: Mapped[str] = mapped_column(String(64), nullable=False)
    previous_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    failing_since: Mapped[datetime | None] = mapped_column(nullable=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # What the worker claims: pending deliveries due, oldest first.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        # Order per resource: an earlier delivery of the same record still pending.
        Index(
            "ix_webhook_deliveries_order",
            "webhook_id",
            "entity_id",
            "seq",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_deliveries_webhook_created", "webhook_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id"), nullable=False)
    event_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    """The event's place in the outbox: deliveries of one record go out in this order."""
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[DeliveryStatus] = mapped_column(
        string_enum(DeliveryStatus, "delivery_status"), nullable=False
    )
    attempt_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, nullable=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    """When the worker may next claim it (while claimed: when the claim lapses)."""
    retry_until: Mapped[datetime] = mapped_column(nullable=False)
    """After a failure past this, it is given up (3 days from its making or redelivery)."""
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(nullable=True)
