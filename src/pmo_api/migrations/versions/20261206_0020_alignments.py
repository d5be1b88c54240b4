"""alignments: a project's contribution to each strategic objective (0-3)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 13:33:23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pmo_api.db.base import UTCDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alignments",
        sa.Column("objective_id", sa.Uuid(), nullable=False),
        sa.Column("contribution", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "contribution BETWEEN 0 AND 3", name=op.f("ck_alignments_contribution_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["objective_id"], ["objectives.id"], name=op.f("fk_alignments_objective_id_objectives")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_alignments_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alignments")),
    )
    with op.batch_alter_table("alignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alignments_objective_id"), ["objective_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_alignments_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alignments_updated_at"), ["updated_at"], unique=False)
        batch_op.create_index(
            "uq_alignments_live_project_id_objective_id",
            ["project_id", "objective_id"],
            unique=True,
            postgresql_where=sa.text("archived_at IS NULL"),
            sqlite_where=sa.text("archived_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("alignments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_alignments_live_project_id_objective_id",
            postgresql_where=sa.text("archived_at IS NULL"),
            sqlite_where=sa.text("archived_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_alignments_updated_at"))
        batch_op.drop_index(batch_op.f("ix_alignments_project_id"))
        batch_op.drop_index(batch_op.f("ix_alignments_objective_id"))

    op.drop_table("alignments")
