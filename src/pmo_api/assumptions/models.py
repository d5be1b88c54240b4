"""The assumptions table."""

from __future__ import annotations

import enum
import uuid
from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Base, string_enum
from pmo_api.records.models import ProjectRecord


class AssumptionStatus(enum.StrEnum):
    """open until checked; validated and invalidated assumptions carry a resolution."""

    OPEN = "open"
    VALIDATED = "validated"
    INVALIDATED = "invalidated"


SETTLED_ASSUMPTION_STATUSES = (AssumptionStatus.VALIDATED, AssumptionStatus.INVALIDATED)


class Assumption(ProjectRecord, Base):
    """Something a project's plan takes as true, to be checked by ``validate_by``."""

    __tablename__ = "assumptions"
    __table_args__ = (
        CheckConstraint(
            "status = 'open' OR resolution IS NOT NULL", name="resolution_when_settled"
        ),
        # A project's list in its default order (validate_by, then id).
        Index("ix_assumptions_project_id_validate_by", "project_id", "validate_by"),
    )

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[AssumptionStatus] = mapped_column(
        string_enum(AssumptionStatus, "assumption_status"), nullable=False
    )
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id"), nullable=True, index=True
    )
    validate_by: Mapped[date | None] = mapped_column(Date, nullable=True)
