"""a portfolio's live projects, covered for the rollup

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 00:00:00

A portfolio's rollup groups and sums its live projects (status, health, phase, planned
budget, actual cost) and looks up each one's risks and milestones by id. On PostgreSQL
this index holds all of those columns for the live projects, so the rollup reads the
index alone instead of a heap page per project; on SQLite (no INCLUDE) it is the live
projects by portfolio.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "archived_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_projects_live_portfolio_id",
        "projects",
        ["portfolio_id"],
        postgresql_include=["id", "status", "health", "phase", "planned_budget", "actual_cost"],
        postgresql_where=sa.text(LIVE),
        sqlite_where=sa.text(LIVE),
    )


def downgrade() -> None:
    op.drop_index("ix_projects_live_portfolio_id", table_name="projects")
