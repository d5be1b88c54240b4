"""project_snapshots: each project"s key figures at the end of a day (the metrics" history)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 15:44:36.854767
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pmo_api.db.base import Money, UTCDateTime

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project_snapshots",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("portfolio_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("taken_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("phase", sa.String(length=100), nullable=True),
        sa.Column("health", sa.String(length=10), nullable=False),
        sa.Column("percent_complete", sa.Integer(), nullable=False),
        sa.Column("planned_budget", Money(precision=14, scale=2), nullable=False),
        sa.Column("actual_cost", Money(precision=14, scale=2), nullable=False),
        sa.Column("budget_at_completion", Money(precision=14, scale=2), nullable=True),
        sa.Column("planned_value", Money(precision=14, scale=2), nullable=True),
        sa.Column("earned_value", Money(precision=14, scale=2), nullable=True),
        sa.Column("rules_passed", sa.Integer(), nullable=False),
        sa.Column("rules_failed", sa.Integer(), nullable=False),
        sa.Column("compliance_rate", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_snapshots_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_snapshots")),
        sa.UniqueConstraint("project_id", "day", name=op.f("uq_project_snapshots_project_id_day")),
    )
    with op.batch_alter_table("project_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_project_snapshots_day_project_id", ["day", "project_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("project_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_project_snapshots_day_project_id")

    op.drop_table("project_snapshots")
