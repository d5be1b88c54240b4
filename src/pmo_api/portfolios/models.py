from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Archivable, Base, Entity

PRIORITY_PARTS = ("alignment", "value", "risk")
"""What a project's priority score weighs (``listings/ranking.py``): its alignment
with the objectives, its value for its cost, and how little risk it carries."""


class Portfolio(Entity, Archivable, Base):
    __tablename__ = "portfolios"
    __table_args__ = tuple(
        CheckConstraint(
            f"priority_weight_{part} BETWEEN 0 AND 100", name=f"priority_weight_{part}_in_range"
        )
        for part in PRIORITY_PARTS
    )

    key: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id"), nullable=True, index=True
    )
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("portfolios.id"), nullable=True, index=True
    )
    budget_cap: Mapped[Decimal | None] = mapped_column(nullable=True)
    priority_weight_alignment: Mapped[int] = mapped_column(Integer, nullable=False)
    priority_weight_value: Mapped[int] = mapped_column(Integer, nullable=False)
    priority_weight_risk: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": Entity.version}
