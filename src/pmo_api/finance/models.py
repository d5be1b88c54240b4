from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, Enum, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Base
from pmo_api.records.models import ProjectRecord


class CostCategory(enum.StrEnum):
    """What a cost was spent on."""

    LABOUR = "labour"
    MATERIALS = "materials"
    SERVICES = "services"
    TRAVEL = "travel"
    LICENCES = "licences"
    OTHER = "other"


class CostEntry(ProjectRecord, Base):
    """One dated cost of a project; a negative amount is a correction or a credit."""

    __tablename__ = "cost_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        # The project's cost list: its filter and default sort, served by one index scan.
        Index("ix_cost_entries_project_id_incurred_on", "project_id", "incurred_on"),
    )

    incurred_on: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(nullable=False)
    category: Mapped[CostCategory] = mapped_column(
        Enum(
            CostCategory,
            name="cost_category",
            native_enum=False,
            length=16,
            validate_strings=True,
            values_callable=lambda e: [m.value for m in e],
        ),
        nullable=False,
    )
    description: Mapped[str] = mapped_column(Text, nullable=False)
    reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
