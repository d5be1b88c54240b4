from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Base, string_enum
from pmo_api.projects.models import Health
from pmo_api.records.models import ProjectRecord


class ReportState(enum.StrEnum):
    """draft (editable) or submitted (frozen)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"


HEALTH_DIMENSIONS = ("overall", "schedule", "budget", "scope", "resources")
"""The report's health columns are ``<dimension>_health``."""


class StatusReport(ProjectRecord, Base):
    """A project's status for one period.

    A draft is edited freely; submitting freezes it, together with the project's
    figures at that moment (``percent_complete`` ... ``overdue_milestones``, null
    while a draft), and from then on nothing of it changes.
    """

    __tablename__ = "status_reports"
    __table_args__ = (
        CheckConstraint("period_end >= period_start", name="period_in_order"),
        # The project's list (filtered by project, sorted by period) and the look-ups of
        # the latest and the previous submitted report, served by one index.
        Index("ix_status_reports_project_id_period_end", "project_id", "period_end"),
    )

    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    overall_health: Mapped[Health] = mapped_column(string_enum(Health, "health"), nullable=False)
    schedule_health: Mapped[Health] = mapped_column(string_enum(Health, "health"), nullable=False)
    budget_health: Mapped[Health] = mapped_column(string_enum(Health, "health"), nullable=False)
    scope_health: Mapped[Health] = mapped_column(string_enum(Health, "health"), nullable=False)
    resources_health: Mapped[Health] = mapped_column(string_enum(Health, "health"), nullable=False)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    accomplishments: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_steps: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[ReportState] = mapped_column(
        string_enum(ReportState, "report_state"), nullable=False, index=True
    )
    submitted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    submitted_by_person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id"), nullable=True, index=True
    )
    submitted_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The project's figures at submission (null while a draft).
    percent_complete: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actual_cost: Mapped[Decimal | None] = mapped_column(nullable=True)
    planned_budget: Mapped[Decimal | None] = mapped_column(nullable=True)
    open_risks: Mapped[int | None] = mapped_column(Integer, nullable=True)
    overdue_milestones: Mapped[int | None] = mapped_column(Integer, nullable=True)
