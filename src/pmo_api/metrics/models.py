"""The history: each project's key figures as they stood at the end of a day."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Base


class ProjectSnapshot(Base):
    """One project's figures on one day: taken when a status report is submitted and by
    ``pmo-api snapshot``; a day has one per project (taken again, it is brought up to
    date), so the last of a day is the day's end."""

    __tablename__ = "project_snapshots"
    __table_args__ = (
        UniqueConstraint("project_id", "day"),
        # A day's (or a series') snapshots across the organisation.
        Index("ix_project_snapshots_day_project_id", "day", "project_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id"), nullable=False)
    portfolio_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    taken_at: Mapped[datetime] = mapped_column(nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    phase: Mapped[str | None] = mapped_column(String(100), nullable=True)
    health: Mapped[str] = mapped_column(String(10), nullable=False)
    percent_complete: Mapped[int] = mapped_column(Integer, nullable=False)
    planned_budget: Mapped[Decimal] = mapped_column(nullable=False)
    actual_cost: Mapped[Decimal] = mapped_column(nullable=False)
    budget_at_completion: Mapped[Decimal | None] = mapped_column(nullable=True)
    """The current baseline's budget; null without a baseline with dates, and so are
    the planned and earned values."""
    planned_value: Mapped[Decimal | None] = mapped_column(nullable=True)
    earned_value: Mapped[Decimal | None] = mapped_column(nullable=True)
    rules_passed: Mapped[int] = mapped_column(Integer, nullable=False)
    rules_failed: Mapped[int] = mapped_column(Integer, nullable=False)
    compliance_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
