"""what the compliance watch last found of each project

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 07:41:11.167276
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pmo_api.db.base import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "compliance_states",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("compliant", sa.Boolean(), nullable=False),
        sa.Column(
            "failing", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("checked_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_compliance_states_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_compliance_states")),
    )


def downgrade() -> None:
    op.drop_table("compliance_states")
