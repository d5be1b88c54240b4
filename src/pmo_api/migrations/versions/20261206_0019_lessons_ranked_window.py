"""lessons: newest first, and the title and tags searched apart (a search's ranked window)

PostgreSQL: ``lessons.title_document``, a ``tsvector`` the database generates from the
title and tags alone, with a GIN index: the hits in a title or tags are found without
reading the lessons' whole text. Both databases: an index on (created_at, id), the
order of the lists and of a search's window (``lessons/repository.py``).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 13:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.create_index("ix_lessons_created_at_id", ["created_at", "id"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        return  # FTS5 searches a column of its own table: {title tags}
    op.execute(
        "ALTER TABLE lessons ADD COLUMN title_document tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('english', title), 'A') || "
        "setweight(to_tsvector('english', tags::text), 'A')) STORED"
    )
    op.execute("CREATE INDEX ix_lessons_title_document ON lessons USING gin (title_document)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP INDEX ix_lessons_title_document")
        op.execute("ALTER TABLE lessons DROP COLUMN title_document")
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_index("ix_lessons_created_at_id")
