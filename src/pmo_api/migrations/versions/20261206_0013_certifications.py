"""people's certifications (read by the compliance check manager_certified)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The people already there hold none: '[]' fills the column, then the default goes
    # (the service writes every column of a new row itself).
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "certifications",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default="[]",
            )
        )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.alter_column("certifications", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("certifications")
