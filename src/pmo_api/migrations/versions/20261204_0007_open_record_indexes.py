"""partial indexes of open risks and open milestones

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 00:00:00

A portfolio's rollup counts, for each of its projects, the open risks, the open high
risks and the overdue milestones. These indexes hold only the open rows with the
column each count filters on, so each count is an index-only scan.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_RISK = "status IN ('open', 'mitigating') AND archived_at IS NULL"
OPEN_MILESTONE = "status IN ('planned', 'in_progress') AND archived_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_risks_open_project_id_score",
        "risks",
        ["project_id", "score"],
        postgresql_where=sa.text(OPEN_RISK),
        sqlite_where=sa.text(OPEN_RISK),
    )
    op.create_index(
        "ix_milestones_open_project_id_due_date",
        "milestones",
        ["project_id", "due_date"],
        postgresql_where=sa.text(OPEN_MILESTONE),
        sqlite_where=sa.text(OPEN_MILESTONE),
    )


def downgrade() -> None:
    op.drop_index("ix_milestones_open_project_id_due_date", table_name="milestones")
    op.drop_index("ix_risks_open_project_id_score", table_name="risks")
