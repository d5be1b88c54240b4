"""The audits and findings tables."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pmo_api.db.base import Archivable, Base, Entity, JSONDocument, string_enum
from pmo_api.standards.rules import Severity


class AuditType(enum.StrEnum):
    """What the audit looks at: the standards (compliance_review), the project's state
    (health_check), or what a finished project achieved and learned
    (post_implementation_review)."""

    COMPLIANCE_REVIEW = "compliance_review"
    HEALTH_CHECK = "health_check"
    POST_IMPLEMENTATION_REVIEW = "post_implementation_review"


class AuditStatus(enum.StrEnum):
    """planned until it starts (its checklist is drawn then), in_progress while the
    auditor answers it, completed (frozen) once scored."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class Audit(Entity, Archivable, Base):
    """An audit of one project."""

    __tablename__ = "audits"
    __table_args__ = (
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_in_range"),
        Index("ix_audits_status_planned_on", "status", "planned_on"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id"), nullable=False, index=True
    )
    type: Mapped[AuditType] = mapped_column(
        string_enum(AuditType, "audit_type", 32), nullable=False
    )
    auditor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id"), nullable=False, index=True
    )
    planned_on: Mapped[date] = mapped_column(Date, nullable=False)
    scope: Mapped[str | None] = mapped_column(Text, nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[AuditStatus] = mapped_column(
        string_enum(AuditStatus, "audit_status"), nullable=False
    )
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, nullable=False)
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, nullable=False)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __mapper_args__ = {"version_id_col": Entity.version}


class FindingStatus(enum.StrEnum):
    """open when raised; in_remediation while it is being fixed; then resolved (fixed)
    or accepted (kept as it is, on purpose). resolved and accepted are final."""

    OPEN = "open"
    IN_REMEDIATION = "in_remediation"
    RESOLVED = "resolved"
    ACCEPTED = "accepted"


OPEN_STATUSES = (FindingStatus.OPEN, FindingStatus.IN_REMEDIATION)


class Finding(Entity, Archivable, Base):
    """What an audit found wrong, and its way to closure."""

    __tablename__ = "findings"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'in_remediation') OR closed_at IS NOT NULL",
            name="closed_when_final",
        ),
        Index("ix_findings_status_due_on", "status", "due_on"),
        # The lists' default order (newest first): a page is read from the index in
        # order, the filters applied on the way, whatever the number of findings.
        Index("ix_findings_created_at_id", "created_at", "id"),
    )

    audit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audits.id"), nullable=False, index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id"), nullable=False, index=True
    )
    severity: Mapped[Severity] = mapped_column(
        string_enum(Severity, "finding_severity"), nullable=False
    )
    rule_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    policy_key: Mapped[str | None] = mapped_column(String(40), nullable=True)
    gate_phase: Mapped[str | None] = mapped_column(String(100), nullable=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    remediation: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[FindingStatus] = mapped_column(
        string_enum(FindingStatus, "finding_status"), nullable=False
    )
    raised_by: Mapped[str] = mapped_column(String(200), nullable=False)
    raised_by_person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id"), nullable=True
    )
    remediation_started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    closed_by_person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id"), nullable=True
    )
    closing_note: Mapped[str | None] = mapped_column(Text, nullable=True)

    __mapper_args__ = {"version_id_col": Entity.version}
