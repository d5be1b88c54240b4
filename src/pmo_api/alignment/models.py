"""The alignments table."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Base
from pmo_api.records.models import ProjectRecord

LIVE = "archived_at IS NULL"


class Alignment(ProjectRecord, Base):
    """A project's contribution to one objective."""

    __tablename__ = "alignments"
    __table_args__ = (
        CheckConstraint("contribution BETWEEN 0 AND 3", name="contribution_in_range"),
        # One live alignment of a project with an objective.
        Index(
            "uq_alignments_live_project_id_objective_id",
            "project_id",
            "objective_id",
            unique=True,
            postgresql_where=text(LIVE),
            sqlite_where=text(LIVE),
        ),
    )

    objective_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("objectives.id"), nullable=False, index=True
    )
    contribution: Mapped[int] = mapped_column(Integer, nullable=False)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
