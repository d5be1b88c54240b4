"""training: courses, enrollments and certifications (a table of their own)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:31:03

The certifications people held as a JSON list (``people.certifications``, 0013) move
to the ``certifications`` table, one row each, and the column goes; a downgrade puts
them back in the list.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pmo_api.db.base import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
LIVE = "status IN ('enrolled', 'in_progress') AND archived_at IS NULL"

_PEOPLE = sa.table("people", sa.column("id", sa.Uuid()), sa.column("certifications", _JSON))
_CERTIFICATIONS = sa.table(
    "certifications",
    sa.column("id", sa.Uuid()),
    sa.column("person_id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("issuer", sa.String()),
    sa.column("issued_on", sa.Date()),
    sa.column("expires_on", sa.Date()),
    sa.column("version", sa.Integer()),
    sa.column("created_at", UTCDateTime(timezone=True)),
    sa.column("updated_at", UTCDateTime(timezone=True)),
    sa.column("archived_at", UTCDateTime(timezone=True)),
)


def _envelope(table: str) -> list[Any]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("skill", sa.String(length=100), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("grants_certification", _JSON, nullable=True),
        *_envelope("courses"),
        sa.CheckConstraint("hours > 0 AND hours <= 1000", name=op.f("ck_courses_hours_in_range")),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name=op.f("ck_courses_level_in_range")),
    )
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_courses_skill"), ["skill"], unique=False)
        batch_op.create_index(batch_op.f("ix_courses_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "enrollments",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "enrolled",
                "in_progress",
                "completed",
                "withdrawn",
                name="enrollment_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("completed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        *_envelope("enrollments"),
        sa.CheckConstraint(
            "status <> 'completed' OR completed_at IS NOT NULL",
            name=op.f("ck_enrollments_completed_when_completed"),
        ),
        sa.CheckConstraint("score BETWEEN 0 AND 100", name=op.f("ck_enrollments_score_in_range")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_enrollments_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_enrollments_person_id_people")
        ),
    )
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrollments_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrollments_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrollments_updated_at"), ["updated_at"], unique=False)
        batch_op.create_index(
            "uq_enrollments_live_person_id_course_id",
            ["person_id", "course_id"],
            unique=True,
            postgresql_where=sa.text(LIVE),
            sqlite_where=sa.text(LIVE),
        )

    op.create_table(
        "certifications",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("course_id", sa.Uuid(), nullable=True),
        sa.Column("enrollment_id", sa.Uuid(), nullable=True),
        *_envelope("certifications"),
        sa.CheckConstraint(
            "expires_on IS NULL OR issued_on IS NULL OR expires_on >= issued_on",
            name=op.f("ck_certifications_dates_in_order"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_certifications_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_certifications_enrollment_id_enrollments"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_certifications_person_id_people")
        ),
    )
    with op.batch_alter_table("certifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certifications_course_id"), ["course_id"], unique=False
        )
        batch_op.create_index(
            "ix_certifications_person_id_name", ["person_id", "name"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_certifications_updated_at"), ["updated_at"], unique=False
        )

    _copy_certifications_out()
    # Not a batch operation: SQLite drops the column in place (a batch would copy the
    # people table, which the other tables' foreign keys name).
    op.drop_column("people", "certifications")


def _copy_certifications_out() -> None:
    """Each certification of a person's list, a row of its own."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    rows = []
    for person in bind.execute(sa.select(_PEOPLE.c.id, _PEOPLE.c.certifications)):
        for held in person.certifications or []:
            issued, expires = _day(held.get("issued_on")), _day(held.get("expires_on"))
            if issued is not None and expires is not None and expires < issued:
                issued = None  # kept as held: the expiry is what the checks read
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "person_id": person.id,
                    "name": held["name"],
                    "issuer": held.get("issuer"),
                    "issued_on": issued,
                    "expires_on": expires,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                    "archived_at": None,
                }
            )
    if rows:
        bind.execute(sa.insert(_CERTIFICATIONS), rows)


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("certifications", _JSON, nullable=False, server_default="[]"))
    _copy_certifications_back()
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.alter_column("certifications", server_default=None)

    with op.batch_alter_table("certifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certifications_updated_at"))
        batch_op.drop_index("ix_certifications_person_id_name")
        batch_op.drop_index(batch_op.f("ix_certifications_course_id"))
    op.drop_table("certifications")

    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_enrollments_live_person_id_course_id",
            postgresql_where=sa.text(LIVE),
            sqlite_where=sa.text(LIVE),
        )
        batch_op.drop_index(batch_op.f("ix_enrollments_updated_at"))
        batch_op.drop_index(batch_op.f("ix_enrollments_person_id"))
        batch_op.drop_index(batch_op.f("ix_enrollments_course_id"))
    op.drop_table("enrollments")

    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courses_updated_at"))
        batch_op.drop_index(batch_op.f("ix_courses_skill"))
    op.drop_table("courses")


def _copy_certifications_back() -> None:
    """The live certifications, back in each person's list (by name)."""
    bind = op.get_bind()
    held: dict[Any, list[dict[str, Any]]] = {}
    found = bind.execute(
        sa.select(_CERTIFICATIONS)
        .where(_CERTIFICATIONS.c.archived_at.is_(None))
        .order_by(_CERTIFICATIONS.c.person_id, _CERTIFICATIONS.c.name)
    )
    for row in found:
        held.setdefault(row.person_id, []).append(
            {
                "name": row.name,
                "issuer": row.issuer,
                "issued_on": row.issued_on.isoformat() if row.issued_on else None,
                "expires_on": row.expires_on.isoformat() if row.expires_on else None,
            }
        )
    for person_id, certifications in held.items():
        bind.execute(
            sa.update(_PEOPLE)
            .where(_PEOPLE.c.id == person_id)
            .values(certifications=certifications[:50])
        )
