from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Base
from pmo_api.records.models import ProjectRecord


def week_of(day: date) -> date:
    """The Monday of the ISO week holding ``day``."""
    return day - timedelta(days=day.weekday())


class Assignment(ProjectRecord, Base):
    """A person working on a project for a share of their time, every day from
    ``start_date`` to ``end_date`` inclusive."""

    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint("allocation_percent BETWEEN 1 AND 100", name="allocation_percent_range"),
        CheckConstraint("end_date >= start_date", name="dates_in_order"),
        # The project's assignment list: its filter and default sort.
        Index("ix_assignments_project_id_start_date", "project_id", "start_date"),
        # A person's load: their assignments by start date.
        Index("ix_assignments_person_id_start_date", "person_id", "start_date"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), nullable=False)
    role: Mapped[str] = mapped_column(String(100), nullable=False)
    allocation_percent: Mapped[int] = mapped_column(Integer, nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
