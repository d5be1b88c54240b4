"""lessons learned

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 07:52:41.983423
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pmo_api.db.base import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lessons",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("recommendation", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("author_person_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_person_id"], ["people.id"], name=op.f("fk_lessons_author_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_lessons_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lessons")),
    )
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lessons_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_lessons_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lessons_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lessons_updated_at"))
        batch_op.drop_index(batch_op.f("ix_lessons_project_id"))
        batch_op.drop_index(batch_op.f("ix_lessons_category"))

    op.drop_table("lessons")
