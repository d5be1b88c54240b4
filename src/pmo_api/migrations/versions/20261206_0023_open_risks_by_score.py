"""risks: the open ones by score (a rollup's top risks read the index's last entries)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 16:04:39
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status IN ('open', 'mitigating') AND archived_at IS NULL")
NAME = "ix_risks_open_score_created_at_id"


def upgrade() -> None:
    with op.batch_alter_table("risks", schema=None) as batch_op:
        batch_op.create_index(
            NAME,
            ["score", "created_at", "id"],
            unique=False,
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        )


def downgrade() -> None:
    with op.batch_alter_table("risks", schema=None) as batch_op:
        batch_op.drop_index(NAME, postgresql_where=OPEN, sqlite_where=OPEN)
