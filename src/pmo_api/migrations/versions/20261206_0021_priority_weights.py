"""portfolios: the weights of a project's priority score (alignment, value, risk)

The portfolios already there take the defaults (50, 30, 20); then the defaults go
(the service writes every column of a new row itself).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WEIGHTS = (("alignment", 50), ("value", 30), ("risk", 20))


def upgrade() -> None:
    with op.batch_alter_table("portfolios", schema=None) as batch_op:
        for part, default in WEIGHTS:
            batch_op.add_column(
                sa.Column(
                    f"priority_weight_{part}",
                    sa.Integer(),
                    nullable=False,
                    server_default=str(default),
                )
            )
    with op.batch_alter_table("portfolios", schema=None) as batch_op:
        for part, _ in WEIGHTS:
            batch_op.alter_column(f"priority_weight_{part}", server_default=None)
            batch_op.create_check_constraint(
                f"priority_weight_{part}_in_range", f"priority_weight_{part} BETWEEN 0 AND 100"
            )


def downgrade() -> None:
    with op.batch_alter_table("portfolios", schema=None) as batch_op:
        for part, _ in reversed(WEIGHTS):
            batch_op.drop_constraint(f"priority_weight_{part}_in_range", "check")
            batch_op.drop_column(f"priority_weight_{part}")
