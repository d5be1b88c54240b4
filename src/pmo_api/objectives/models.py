"""The objectives table."""

from __future__ import annotations

import enum
import uuid
from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Archivable, Base, Entity, string_enum


class ObjectiveStatus(enum.StrEnum):
    """draft while it is worded; active while projects work towards it; then achieved,
    missed or cancelled."""

    DRAFT = "draft"
    ACTIVE = "active"
    ACHIEVED = "achieved"
    MISSED = "missed"
    CANCELLED = "cancelled"


class Objective(Entity, Archivable, Base):
    """A strategic goal of the business, for a period."""

    __tablename__ = "objectives"
    __table_args__ = (
        CheckConstraint("weight BETWEEN 1 AND 100", name="weight_in_range"),
        CheckConstraint("period_end >= period_start", name="period_in_order"),
    )

    key: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    weight: Mapped[int] = mapped_column(Integer, nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id"), nullable=True, index=True
    )
    status: Mapped[ObjectiveStatus] = mapped_column(
        string_enum(ObjectiveStatus, "objective_status"), nullable=False
    )

    __mapper_args__ = {"version_id_col": Entity.version}
