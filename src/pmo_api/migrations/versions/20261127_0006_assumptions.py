"""assumptions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pmo_api.db.base import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assumptions",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "validated",
                "invalidated",
                name="assumption_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("validate_by", sa.Date(), nullable=True),
        # The columns every project record has (records.models.ProjectRecord).
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status = 'open' OR resolution IS NOT NULL",
            name=op.f("ck_assumptions_resolution_when_settled"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["people.id"], name=op.f("fk_assumptions_owner_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_assumptions_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assumptions")),
    )
    op.create_index(op.f("ix_assumptions_owner_id"), "assumptions", ["owner_id"], unique=False)
    op.create_index(op.f("ix_assumptions_project_id"), "assumptions", ["project_id"], unique=False)
    op.create_index(op.f("ix_assumptions_updated_at"), "assumptions", ["updated_at"], unique=False)
    op.create_index(
        "ix_assumptions_project_id_validate_by",
        "assumptions",
        ["project_id", "validate_by"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_assumptions_project_id_validate_by", table_name="assumptions")
    op.drop_index(op.f("ix_assumptions_updated_at"), table_name="assumptions")
    op.drop_index(op.f("ix_assumptions_project_id"), table_name="assumptions")
    op.drop_index(op.f("ix_assumptions_owner_id"), table_name="assumptions")
    op.drop_table("assumptions")
