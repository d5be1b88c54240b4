"""A project's RAID log: risks, issues and change requests.

A risk's ``score`` is probability x impact. It is stored (so lists sort and filter on
it with an index on both databases), written only by the service from the two factors,
and a CHECK constraint makes the database refuse any row where it would disagree.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Base, sql_values, string_enum
from pmo_api.records.models import ProjectRecord


class RiskStatus(enum.StrEnum):
    """open and mitigating risks are OPEN."""

    OPEN = "open"
    MITIGATING = "mitigating"
    OCCURRED = "occurred"
    CLOSED = "closed"


OPEN_RISK_STATUSES = (RiskStatus.OPEN, RiskStatus.MITIGATING)
HIGH_RISK_SCORE = 10
"""An open risk scoring this or more (of 25) is high or critical."""
"""OPEN = one of these statuses and not archived."""

OPEN_RISK_PREDICATE = "status IN ('open', 'mitigating') AND archived_at IS NULL"
"""OPEN as the partial index's predicate (``open_risk_clause`` implies it)."""


class RiskResponse(enum.StrEnum):
    """The chosen response to a risk."""

    AVOID = "avoid"
    MITIGATE = "mitigate"
    TRANSFER = "transfer"
    ACCEPT = "accept"


class IssueSeverity(enum.StrEnum):
    """How badly an issue hurts the project."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IssueStatus(enum.StrEnum):
    """resolved and closed issues carry a resolution."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


RESOLVED_ISSUE_STATUSES = (IssueStatus.RESOLVED, IssueStatus.CLOSED)
"""An issue in one of these statuses carries a resolution and the time it was resolved."""


class ChangeStatus(enum.StrEnum):
    """proposed, then approved or rejected (once)."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


class Risk(ProjectRecord, Base):
    __tablename__ = "risks"
    __table_args__ = (
        CheckConstraint("probability BETWEEN 1 AND 5", name="probability_range"),
        CheckConstraint("impact BETWEEN 1 AND 5", name="impact_range"),
        CheckConstraint("score = probability * impact", name="score_derived"),
        # The open-risk counts and the status filter of a project's list.
        Index("ix_risks_project_id_status", "project_id", "status"),
        # A project's list in its default order (highest score first).
        Index("ix_risks_project_id_score", "project_id", "score"),
        # OPEN risks only, with their score: counting a project's open (and open high)
        # risks reads this index alone (rollups, the project list's open risk count).
        Index(
            "ix_risks_open_project_id_score",
            "project_id",
            "score",
            postgresql_where=text(OPEN_RISK_PREDICATE),
            sqlite_where=text(OPEN_RISK_PREDICATE),
        ),
        # OPEN risks by score: a rollup's top risks (highest score, then newest) are the
        # last few entries, read backwards.
        Index(
            "ix_risks_open_score_created_at_id",
            "score",
            "created_at",
            "id",
            postgresql_where=text(OPEN_RISK_PREDICATE),
            sqlite_where=text(OPEN_RISK_PREDICATE),
        ),
    )

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    probability: Mapped[int] = mapped_column(Integer, nullable=False)
    impact: Mapped[int] = mapped_column(Integer, nullable=False)
    score: Mapped[int] = mapped_column(Integer, nullable=False)
    """probability x impact, set by the service (and checked by the database)."""
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id"), nullable=True, index=True
    )
    mitigation: Mapped[str | None] = mapped_column(Text, nullable=True)
    response: Mapped[RiskResponse | None] = mapped_column(
        string_enum(RiskResponse, "risk_response"), nullable=True
    )
    status: Mapped[RiskStatus] = mapped_column(
        string_enum(RiskStatus, "risk_status"), nullable=False
    )
    last_reviewed_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class ProjectIssue(ProjectRecord, Base):
    """An issue of a project (the "I" of RAID): something that is going wrong now."""

    __tablename__ = "project_issues"
    __table_args__ = (
        CheckConstraint(
            "status NOT IN ('resolved', 'closed') OR resolution IS NOT NULL",
            name="resolution_when_resolved",
        ),
        Index("ix_project_issues_project_id_status", "project_id", "status"),
        Index("ix_project_issues_project_id_created_at", "project_id", "created_at"),
    )

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    severity: Mapped[IssueSeverity] = mapped_column(
        string_enum(IssueSeverity, "issue_severity"), nullable=False
    )
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id"), nullable=True, index=True
    )
    status: Mapped[IssueStatus] = mapped_column(
        string_enum(IssueStatus, "issue_status"), nullable=False
    )
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    """When the issue became resolved (or closed); set by the service."""


class ChangeRequest(ProjectRecord, Base):
    """A proposed change of a project's budget or schedule; approving it applies it."""

    __tablename__ = "change_requests"
    __table_args__ = (
        CheckConstraint(
            "status = 'proposed' OR decided_at IS NOT NULL", name="decided_when_not_proposed"
        ),
        Index("ix_change_requests_project_id_status", "project_id", "status"),
        Index("ix_change_requests_project_id_created_at", "project_id", "created_at"),
    )

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    budget_impact: Mapped[Decimal] = mapped_column(nullable=False)
    """Added to the project's planned budget on approval (negative: a saving)."""
    schedule_impact_days: Mapped[int] = mapped_column(Integer, nullable=False)
    """Days added to the project's planned end on approval (negative: earlier)."""
    status: Mapped[ChangeStatus] = mapped_column(
        string_enum(ChangeStatus, "change_status"), nullable=False
    )
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """The name of the API key that approved or rejected the change."""
    decided_by_person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id"), nullable=True
    )
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)


def open_risk_clause() -> ColumnElement[bool]:
    """OPEN, in SQL: open or being mitigated, not archived (counts and rollups use this).

    The statuses are written into the SQL, not bound: the database then matches the
    clause to the partial index of open risks in every plan, a prepared one included,
    and no statement has a list parameter to expand per run."""
    return and_(Risk.status.in_(sql_values(OPEN_RISK_STATUSES)), Risk.archived_at.is_(None))
