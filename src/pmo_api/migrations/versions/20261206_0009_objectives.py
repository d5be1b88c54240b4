"""objectives

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pmo_api.db.base import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "objectives",
        sa.Column("key", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "active",
                "achieved",
                "missed",
                "cancelled",
                name="objective_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "period_end >= period_start", name=op.f("ck_objectives_period_in_order")
        ),
        sa.CheckConstraint("weight BETWEEN 1 AND 100", name=op.f("ck_objectives_weight_in_range")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["people.id"], name=op.f("fk_objectives_owner_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objectives")),
        sa.UniqueConstraint("key", name=op.f("uq_objectives_key")),
    )
    with op.batch_alter_table("objectives", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_objectives_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_objectives_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("objectives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objectives_updated_at"))
        batch_op.drop_index(batch_op.f("ix_objectives_owner_id"))

    op.drop_table("objectives")
