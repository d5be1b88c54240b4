"""A project's schedule: milestones, deliverables and baselines.

A milestone's ``overdue`` is derived, never stored: status planned or in_progress,
due before today, not archived (see ``overdue_clause``).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    and_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression

from pmo_api.db.base import Base, JSONDocument, sql_values, string_enum
from pmo_api.records.models import ProjectRecord


class MilestoneStatus(enum.StrEnum):
    """Where a milestone stands."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


OPEN_MILESTONE_STATUSES = (MilestoneStatus.PLANNED, MilestoneStatus.IN_PROGRESS)
"""The statuses of a milestone still to be reached (it can be overdue, or next)."""

OPEN_MILESTONE_PREDICATE = "status IN ('planned', 'in_progress') AND archived_at IS NULL"
"""Open and not archived, as the partial index's predicate (``overdue_clause`` implies it)."""


class DeliverableStatus(enum.StrEnum):
    """Where a deliverable stands, up to acceptance."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Milestone(ProjectRecord, Base):
    __tablename__ = "milestones"
    __table_args__ = (
        CheckConstraint("done_date IS NULL OR status = 'done'", name="done_date_only_when_done"),
        # A project's list (default sort due_date) and the next/overdue look-ups.
        Index("ix_milestones_project_id_due_date", "project_id", "due_date"),
        # Open milestones only: counting a project's overdue ones reads this index alone.
        Index(
            "ix_milestones_open_project_id_due_date",
            "project_id",
            "due_date",
            postgresql_where=text(OPEN_MILESTONE_PREDICATE),
            sqlite_where=text(OPEN_MILESTONE_PREDICATE),
        ),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    done_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[MilestoneStatus] = mapped_column(
        string_enum(MilestoneStatus, "milestone_status"), nullable=False
    )
    overdue: Mapped[bool] = query_expression()
    """Derived in the query that loads the milestone (``with_expression`` of
    ``overdue_clause(today)``, see repository.py); never stored."""


def overdue_clause(today: date) -> ColumnElement[bool]:
    """OVERDUE, in SQL: still open, due before ``today``, not archived (the statuses
    written into the SQL, as in ``raid.models.open_risk_clause``)."""
    return and_(
        Milestone.status.in_(sql_values(OPEN_MILESTONE_STATUSES)),
        Milestone.due_date < today,
        Milestone.archived_at.is_(None),
    )


class Deliverable(ProjectRecord, Base):
    __tablename__ = "deliverables"
    __table_args__ = (Index("ix_deliverables_project_id_due_date", "project_id", "due_date"),)

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    phase: Mapped[str | None] = mapped_column(String(100), nullable=True)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[DeliverableStatus] = mapped_column(
        string_enum(DeliverableStatus, "deliverable_status"), nullable=False
    )
    accepted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """The name of the API key that accepted the deliverable."""
    accepted_by_person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id"), nullable=True
    )
    accepted_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Baseline(ProjectRecord, Base):
    """An immutable record of a project's plan at one moment: written once, never
    changed or archived (``version`` stays 1 and ``archived_at`` null; the columns are
    kept so baselines list and page like every other record)."""

    __tablename__ = "baselines"
    __table_args__ = (Index("ix_baselines_project_id_created_at", "project_id", "created_at"),)

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    planned_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    planned_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    planned_budget: Mapped[Decimal] = mapped_column(nullable=False)
    milestones: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, nullable=False)
    """The project's non-archived milestones when captured: id, name, due_date, status."""
    captured_by: Mapped[str] = mapped_column(String(200), nullable=False)
    """The name of the API key that captured the baseline."""
    captured_by_person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id"), nullable=True
    )
