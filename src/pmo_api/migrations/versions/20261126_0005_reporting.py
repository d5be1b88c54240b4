"""status reports

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pmo_api.db.base import Money, UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _health(column: str) -> sa.Column[str]:
    return sa.Column(
        column,
        sa.Enum("green", "amber", "red", name="health", native_enum=False, length=16),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "status_reports",
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        _health("overall_health"),
        _health("schedule_health"),
        _health("budget_health"),
        _health("scope_health"),
        _health("resources_health"),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("accomplishments", sa.Text(), nullable=True),
        sa.Column("next_steps", sa.Text(), nullable=True),
        sa.Column(
            "state",
            sa.Enum("draft", "submitted", name="report_state", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("submitted_by", sa.String(length=200), nullable=True),
        sa.Column("submitted_by_person_id", sa.Uuid(), nullable=True),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("percent_complete", sa.Integer(), nullable=True),
        sa.Column("actual_cost", Money(), nullable=True),
        sa.Column("planned_budget", Money(), nullable=True),
        sa.Column("open_risks", sa.Integer(), nullable=True),
        sa.Column("overdue_milestones", sa.Integer(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "period_end >= period_start", name=op.f("ck_status_reports_period_in_order")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_status_reports_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_person_id"],
            ["people.id"],
            name=op.f("fk_status_reports_submitted_by_person_id_people"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_reports")),
    )
    op.create_index(
        op.f("ix_status_reports_project_id"), "status_reports", ["project_id"], unique=False
    )
    op.create_index(
        "ix_status_reports_project_id_period_end",
        "status_reports",
        ["project_id", "period_end"],
        unique=False,
    )
    op.create_index(op.f("ix_status_reports_state"), "status_reports", ["state"], unique=False)
    op.create_index(
        op.f("ix_status_reports_submitted_by_person_id"),
        "status_reports",
        ["submitted_by_person_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_status_reports_updated_at"), "status_reports", ["updated_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_status_reports_updated_at"), table_name="status_reports")
    op.drop_index(op.f("ix_status_reports_submitted_by_person_id"), table_name="status_reports")
    op.drop_index(op.f("ix_status_reports_state"), table_name="status_reports")
    op.drop_index("ix_status_reports_project_id_period_end", table_name="status_reports")
    op.drop_index(op.f("ix_status_reports_project_id"), table_name="status_reports")

    op.drop_table("status_reports")
