"""risks, issues and change requests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pmo_api.db.base import Money, UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _record_columns() -> list[sa.Column[object]]:
    """The columns every project control record has (Entity, Archivable, ProjectRecord)."""
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.Column("project_id", sa.Uuid(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "risks",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("mitigation", sa.Text(), nullable=True),
        sa.Column(
            "response",
            sa.Enum(
                "avoid",
                "mitigate",
                "transfer",
                "accept",
                name="risk_response",
                native_enum=False,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "mitigating",
                "occurred",
                "closed",
                name="risk_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("last_reviewed_on", sa.Date(), nullable=True),
        *_record_columns(),
        sa.CheckConstraint("impact BETWEEN 1 AND 5", name=op.f("ck_risks_impact_range")),
        sa.CheckConstraint("probability BETWEEN 1 AND 5", name=op.f("ck_risks_probability_range")),
        sa.CheckConstraint("score = probability * impact", name=op.f("ck_risks_score_derived")),
        sa.ForeignKeyConstraint(["owner_id"], ["people.id"], name=op.f("fk_risks_owner_id_people")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_risks_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risks")),
    )
    op.create_index(op.f("ix_risks_owner_id"), "risks", ["owner_id"], unique=False)
    op.create_index(op.f("ix_risks_project_id"), "risks", ["project_id"], unique=False)
    op.create_index("ix_risks_project_id_score", "risks", ["project_id", "score"], unique=False)
    op.create_index("ix_risks_project_id_status", "risks", ["project_id", "status"], unique=False)
    op.create_index(op.f("ix_risks_updated_at"), "risks", ["updated_at"], unique=False)

    op.create_table(
        "project_issues",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "severity",
            sa.Enum(
                "low",
                "medium",
                "high",
                "critical",
                name="issue_severity",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "in_progress",
                "resolved",
                "closed",
                name="issue_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        *_record_columns(),
        sa.CheckConstraint(
            "status NOT IN ('resolved', 'closed') OR resolution IS NOT NULL",
            name=op.f("ck_project_issues_resolution_when_resolved"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["people.id"], name=op.f("fk_project_issues_owner_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_issues_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_issues")),
    )
    op.create_index(
        op.f("ix_project_issues_owner_id"), "project_issues", ["owner_id"], unique=False
    )
    op.create_index(
        op.f("ix_project_issues_project_id"), "project_issues", ["project_id"], unique=False
    )
    op.create_index(
        "ix_project_issues_project_id_created_at",
        "project_issues",
        ["project_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_project_issues_project_id_status",
        "project_issues",
        ["project_id", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_project_issues_updated_at"), "project_issues", ["updated_at"], unique=False
    )

    op.create_table(
        "change_requests",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("budget_impact", Money(), nullable=False),
        sa.Column("schedule_impact_days", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "approved",
                "rejected",
                name="change_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_by_person_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        *_record_columns(),
        sa.CheckConstraint(
            "status = 'proposed' OR decided_at IS NOT NULL",
            name=op.f("ck_change_requests_decided_when_not_proposed"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_person_id"],
            ["people.id"],
            name=op.f("fk_change_requests_decided_by_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_change_requests_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_requests")),
    )
    op.create_index(
        op.f("ix_change_requests_project_id"), "change_requests", ["project_id"], unique=False
    )
    op.create_index(
        "ix_change_requests_project_id_created_at",
        "change_requests",
        ["project_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_change_requests_project_id_status",
        "change_requests",
        ["project_id", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_change_requests_updated_at"), "change_requests", ["updated_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_change_requests_updated_at"), table_name="change_requests")
    op.drop_index("ix_change_requests_project_id_status", table_name="change_requests")
    op.drop_index("ix_change_requests_project_id_created_at", table_name="change_requests")
    op.drop_index(op.f("ix_change_requests_project_id"), table_name="change_requests")
    op.drop_table("change_requests")

    op.drop_index(op.f("ix_project_issues_updated_at"), table_name="project_issues")
    op.drop_index("ix_project_issues_project_id_status", table_name="project_issues")
    op.drop_index("ix_project_issues_project_id_created_at", table_name="project_issues")
    op.drop_index(op.f("ix_project_issues_project_id"), table_name="project_issues")
    op.drop_index(op.f("ix_project_issues_owner_id"), table_name="project_issues")
    op.drop_table("project_issues")

    op.drop_index(op.f("ix_risks_updated_at"), table_name="risks")
    op.drop_index("ix_risks_project_id_status", table_name="risks")
    op.drop_index("ix_risks_project_id_score", table_name="risks")
    op.drop_index(op.f("ix_risks_project_id"), table_name="risks")
    op.drop_index(op.f("ix_risks_owner_id"), table_name="risks")
    op.drop_table("risks")
