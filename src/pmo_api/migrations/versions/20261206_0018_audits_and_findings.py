"""audits and findings

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 12:30:45
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pmo_api.db.base import UTCDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audits",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "compliance_review",
                "health_check",
                "post_implementation_review",
                name="audit_type",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("auditor_id", sa.Uuid(), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "in_progress",
                "completed",
                name="audit_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "checklist", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "answers", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "score IS NULL OR (score >= 0 AND score <= 100)", name=op.f("ck_audits_score_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["auditor_id"], ["people.id"], name=op.f("fk_audits_auditor_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_audits_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audits")),
    )
    with op.batch_alter_table("audits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audits_auditor_id"), ["auditor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audits_project_id"), ["project_id"], unique=False)
        batch_op.create_index("ix_audits_status_planned_on", ["status", "planned_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_audits_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "findings",
        sa.Column("audit_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "low",
                "medium",
                "high",
                "critical",
                name="finding_severity",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("rule_code", sa.String(length=40), nullable=True),
        sa.Column("policy_key", sa.String(length=40), nullable=True),
        sa.Column("gate_phase", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("remediation", sa.Text(), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "in_remediation",
                "resolved",
                "accepted",
                name="finding_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("raised_by", sa.String(length=200), nullable=False),
        sa.Column("raised_by_person_id", sa.Uuid(), nullable=True),
        sa.Column("remediation_started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("closed_by_person_id", sa.Uuid(), nullable=True),
        sa.Column("closing_note", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'in_remediation') OR closed_at IS NOT NULL",
            name=op.f("ck_findings_closed_when_final"),
        ),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audits.id"], name=op.f("fk_findings_audit_id_audits")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_person_id"],
            ["people.id"],
            name=op.f("fk_findings_closed_by_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["people.id"], name=op.f("fk_findings_owner_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_findings_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_person_id"],
            ["people.id"],
            name=op.f("fk_findings_raised_by_person_id_people"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_audit_id"), ["audit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_project_id"), ["project_id"], unique=False)
        batch_op.create_index("ix_findings_status_due_on", ["status", "due_on"], unique=False)
        batch_op.create_index("ix_findings_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_updated_at"))
        batch_op.drop_index("ix_findings_created_at_id")
        batch_op.drop_index("ix_findings_status_due_on")
        batch_op.drop_index(batch_op.f("ix_findings_project_id"))
        batch_op.drop_index(batch_op.f("ix_findings_audit_id"))

    op.drop_table("findings")
    with op.batch_alter_table("audits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audits_updated_at"))
        batch_op.drop_index("ix_audits_status_planned_on")
        batch_op.drop_index(batch_op.f("ix_audits_project_id"))
        batch_op.drop_index(batch_op.f("ix_audits_auditor_id"))

    op.drop_table("audits")
