"""The lifecycle's tables: transitions and gate reviews, each an immutable record of a
project (written once, never changed or archived)."""

from __future__ import annotations

import enum
import uuid
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Base, JSONDocument, string_enum
from pmo_api.records.models import ProjectRecord


class Direction(enum.StrEnum):
    FORWARD = "forward"
    BACK = "back"


class Decision(enum.StrEnum):
    """A gatekeeper's decision: go (the gate opens), hold (not yet), recycle (rework the
    phase), kill (stop the project)."""

    GO = "go"
    HOLD = "hold"
    RECYCLE = "recycle"
    KILL = "kill"


class Transition(ProjectRecord, Base):
    """A project moved from one phase of its methodology to another."""

    __tablename__ = "transitions"
    __table_args__ = (Index("ix_transitions_project_id_created_at", "project_id", "created_at"),)

    methodology_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("methodologies.id"), nullable=False
    )
    from_phase: Mapped[str | None] = mapped_column(String(100), nullable=True)
    to_phase: Mapped[str] = mapped_column(String(100), nullable=False)
    direction: Mapped[Direction] = mapped_column(
        string_enum(Direction, "transition_direction"), nullable=False
    )
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    force: Mapped[bool] = mapped_column(Boolean, nullable=False)
    forced: Mapped[bool] = mapped_column(Boolean, nullable=False)
    justification: Mapped[str | None] = mapped_column(Text, nullable=True)
    unmet: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, nullable=False)
    """The gate's criteria not met when the move was made (by force)."""
    made_by: Mapped[str] = mapped_column(String(200), nullable=False)
    made_by_person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id"), nullable=True
    )


class GateReview(ProjectRecord, Base):
    """One gatekeeper's decision on the gate into a phase."""

    __tablename__ = "gate_reviews"
    __table_args__ = (
        Index("ix_gate_reviews_project_id_phase_created_at", "project_id", "phase", "created_at"),
    )

    methodology_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("methodologies.id"), nullable=False
    )
    phase: Mapped[str] = mapped_column(String(100), nullable=False)
    role: Mapped[str] = mapped_column(String(100), nullable=False)
    decision: Mapped[Decision] = mapped_column(
        string_enum(Decision, "gate_decision"), nullable=False
    )
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewer: Mapped[str] = mapped_column(String(200), nullable=False)
    """The name of the API key that recorded the decision."""
    reviewer_person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id"), nullable=True
    )
