"""cost entries and assignments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pmo_api.db.base import Money, UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _record_columns() -> list[sa.Column[object]]:
    """The columns every project control record has (Entity, Archivable, ProjectRecord)."""
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.Column("project_id", sa.Uuid(), nullable=False),
    ]


def _record_indexes(table: str) -> None:
    op.create_index(op.f(f"ix_{table}_project_id"), table, ["project_id"], unique=False)
    op.create_index(op.f(f"ix_{table}_updated_at"), table, ["updated_at"], unique=False)


def upgrade() -> None:
    op.create_table(
        "cost_entries",
        sa.Column("incurred_on", sa.Date(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "labour",
                "materials",
                "services",
                "travel",
                "licences",
                "other",
                name="cost_category",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        *_record_columns(),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_cost_entries_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_cost_entries_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_entries")),
    )
    _record_indexes("cost_entries")
    op.create_index(
        "ix_cost_entries_project_id_incurred_on",
        "cost_entries",
        ["project_id", "incurred_on"],
        unique=False,
    )

    op.create_table(
        "assignments",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("allocation_percent", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        *_record_columns(),
        sa.CheckConstraint(
            "allocation_percent BETWEEN 1 AND 100",
            name=op.f("ck_assignments_allocation_percent_range"),
        ),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_assignments_dates_in_order")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_assignments_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_assignments_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    _record_indexes("assignments")
    op.create_index(
        "ix_assignments_project_id_start_date",
        "assignments",
        ["project_id", "start_date"],
        unique=False,
    )
    op.create_index(
        "ix_assignments_person_id_start_date",
        "assignments",
        ["person_id", "start_date"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_assignments_person_id_start_date", table_name="assignments")
    op.drop_index("ix_assignments_project_id_start_date", table_name="assignments")
    op.drop_index(op.f("ix_assignments_updated_at"), table_name="assignments")
    op.drop_index(op.f("ix_assignments_project_id"), table_name="assignments")
    op.drop_table("assignments")
    op.drop_index("ix_cost_entries_project_id_incurred_on", table_name="cost_entries")
    op.drop_index(op.f("ix_cost_entries_updated_at"), table_name="cost_entries")
    op.drop_index(op.f("ix_cost_entries_project_id"), table_name="cost_entries")
    op.drop_table("cost_entries")
