"""milestones, deliverables and baselines

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pmo_api.db.base import JSONDocument, Money, UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
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
        "milestones",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("done_date", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "in_progress",
                "done",
                "cancelled",
                name="milestone_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        *_record_columns(),
        sa.CheckConstraint(
            "done_date IS NULL OR status = 'done'",
            name=op.f("ck_milestones_done_date_only_when_done"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_milestones_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
    )
    _record_indexes("milestones")
    op.create_index(
        "ix_milestones_project_id_due_date",
        "milestones",
        ["project_id", "due_date"],
        unique=False,
    )

    op.create_table(
        "deliverables",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("phase", sa.String(length=100), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "in_progress",
                "submitted",
                "accepted",
                "rejected",
                name="deliverable_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("accepted_by", sa.String(length=200), nullable=True),
        sa.Column("accepted_by_person_id", sa.Uuid(), nullable=True),
        sa.Column("accepted_at", UTCDateTime(), nullable=True),
        *_record_columns(),
        sa.ForeignKeyConstraint(
            ["accepted_by_person_id"],
            ["people.id"],
            name=op.f("fk_deliverables_accepted_by_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_deliverables_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliverables")),
    )
    _record_indexes("deliverables")
    op.create_index(
        "ix_deliverables_project_id_due_date",
        "deliverables",
        ["project_id", "due_date"],
        unique=False,
    )

    op.create_table(
        "baselines",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("planned_start", sa.Date(), nullable=True),
        sa.Column("planned_end", sa.Date(), nullable=True),
        sa.Column("planned_budget", Money(), nullable=False),
        sa.Column("milestones", JSONDocument, nullable=False),
        sa.Column("captured_by", sa.String(length=200), nullable=False),
        sa.Column("captured_by_person_id", sa.Uuid(), nullable=True),
        *_record_columns(),
        sa.ForeignKeyConstraint(
            ["captured_by_person_id"],
            ["people.id"],
            name=op.f("fk_baselines_captured_by_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_baselines_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_baselines")),
    )
    _record_indexes("baselines")
    op.create_index(
        "ix_baselines_project_id_created_at",
        "baselines",
        ["project_id", "created_at"],
        unique=False,
    )

    # projects -> baselines closes a cycle (baselines -> projects): the column and its
    # constraint come after both tables. SQLite cannot add a constraint in place, so the
    # batch copies the table there; PostgreSQL gets plain ALTER TABLE statements.
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("baseline_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_projects_baseline_id_baselines"), "baselines", ["baseline_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_constraint(op.f("fk_projects_baseline_id_baselines"), type_="foreignkey")
        batch.drop_column("baseline_id")

    op.drop_index("ix_baselines_project_id_created_at", table_name="baselines")
    op.drop_index(op.f("ix_baselines_updated_at"), table_name="baselines")
    op.drop_index(op.f("ix_baselines_project_id"), table_name="baselines")
    op.drop_table("baselines")

    op.drop_index("ix_deliverables_project_id_due_date", table_name="deliverables")
    op.drop_index(op.f("ix_deliverables_updated_at"), table_name="deliverables")
    op.drop_index(op.f("ix_deliverables_project_id"), table_name="deliverables")
    op.drop_table("deliverables")

    op.drop_index("ix_milestones_project_id_due_date", table_name="milestones")
    op.drop_index(op.f("ix_milestones_updated_at"), table_name="milestones")
    op.drop_index(op.f("ix_milestones_project_id"), table_name="milestones")
    op.drop_table("milestones")
