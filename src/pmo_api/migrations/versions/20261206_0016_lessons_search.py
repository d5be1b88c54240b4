"""lessons full-text search

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 10:40:00

PostgreSQL: ``lessons.search_document``, a ``tsvector`` the database generates from the
title and tags (weight A), what happened (B) and the recommendation (C), with a GIN
index. SQLite: ``lessons_search``, an FTS5 table over the same columns whose content is
the lessons' own rows, kept by three triggers. Neither is in the models (each exists on
one database only): ``migrations.metadata.include_object`` keeps them out of the
comparison with the models. A later migration that rebuilds ``lessons`` on SQLite (a
batch operation copies the table) drops the triggers: it must create them again and
rebuild the index (``_sqlite_upgrade``).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "title, tags, what_happened, recommendation"


def _values(row: str) -> str:
    return ", ".join(f"{row}.{name.strip()}" for name in _COLUMNS.split(","))


def _sqlite_upgrade() -> None:
    op.execute(
        f"CREATE VIRTUAL TABLE lessons_search USING fts5({_COLUMNS}, content='lessons', "
        "tokenize='porter unicode61 remove_diacritics 2')"
    )
    insert = f"INSERT INTO lessons_search(rowid, {_COLUMNS}) VALUES (new.rowid, {_values('new')});"
    delete = (
        f"INSERT INTO lessons_search(lessons_search, rowid, {_COLUMNS}) "
        f"VALUES ('delete', old.rowid, {_values('old')});"
    )
    op.execute(f"CREATE TRIGGER lessons_search_insert AFTER INSERT ON lessons BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER lessons_search_delete AFTER DELETE ON lessons BEGIN {delete} END")
    op.execute(
        f"CREATE TRIGGER lessons_search_update AFTER UPDATE ON lessons BEGIN {delete} {insert} END"
    )
    op.execute("INSERT INTO lessons_search(lessons_search) VALUES ('rebuild')")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_upgrade()
        return
    op.execute(
        "ALTER TABLE lessons ADD COLUMN search_document tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('english', title), 'A') || "
        "setweight(to_tsvector('english', tags::text), 'A') || "
        "setweight(to_tsvector('english', what_happened), 'B') || "
        "setweight(to_tsvector('english', coalesce(recommendation, '')), 'C')) STORED"
    )
    op.execute("CREATE INDEX ix_lessons_search_document ON lessons USING gin (search_document)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER lessons_search_{trigger}")
        op.execute("DROP TABLE lessons_search")
        return
    op.execute("DROP INDEX ix_lessons_search_document")
    op.execute("ALTER TABLE lessons DROP COLUMN search_document")
