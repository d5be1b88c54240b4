"""methodologies, transitions, gate reviews; projects follow a methodology revision

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 07:09:20.315254
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pmo_api.db.base import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "methodologies",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "phases", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "published",
                "retired",
                name="standard_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("retired_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_methodologies")),
        sa.UniqueConstraint("key", "revision", name=op.f("uq_methodologies_key_revision")),
    )
    with op.batch_alter_table("methodologies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_methodologies_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "gate_reviews",
        sa.Column("methodology_id", sa.Uuid(), nullable=False),
        sa.Column("phase", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "go", "hold", "recycle", "kill", name="gate_decision", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("reviewer_person_id", sa.Uuid(), nullable=True),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["methodology_id"],
            ["methodologies.id"],
            name=op.f("fk_gate_reviews_methodology_id_methodologies"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_gate_reviews_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_person_id"],
            ["people.id"],
            name=op.f("fk_gate_reviews_reviewer_person_id_people"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gate_reviews")),
    )
    with op.batch_alter_table("gate_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gate_reviews_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(
            "ix_gate_reviews_project_id_phase_created_at",
            ["project_id", "phase", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_gate_reviews_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "transitions",
        sa.Column("methodology_id", sa.Uuid(), nullable=False),
        sa.Column("from_phase", sa.String(length=100), nullable=True),
        sa.Column("to_phase", sa.String(length=100), nullable=False),
        sa.Column(
            "direction",
            sa.Enum("forward", "back", name="transition_direction", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("force", sa.Boolean(), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=True),
        sa.Column(
            "unmet", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("made_by", sa.String(length=200), nullable=False),
        sa.Column("made_by_person_id", sa.Uuid(), nullable=True),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["made_by_person_id"],
            ["people.id"],
            name=op.f("fk_transitions_made_by_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["methodology_id"],
            ["methodologies.id"],
            name=op.f("fk_transitions_methodology_id_methodologies"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_transitions_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transitions")),
    )
    with op.batch_alter_table("transitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transitions_project_id"), ["project_id"], unique=False)
        batch_op.create_index(
            "ix_transitions_project_id_created_at", ["project_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_transitions_updated_at"), ["updated_at"], unique=False)

    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("methodology_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_projects_methodology_id"), ["methodology_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_projects_methodology_id_methodologies"),
            "methodologies",
            ["methodology_id"],
            ["id"],
            use_alter=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_projects_methodology_id_methodologies"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_projects_methodology_id"))
        batch_op.drop_column("methodology_id")

    with op.batch_alter_table("transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transitions_updated_at"))
        batch_op.drop_index("ix_transitions_project_id_created_at")
        batch_op.drop_index(batch_op.f("ix_transitions_project_id"))

    op.drop_table("transitions")
    with op.batch_alter_table("gate_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gate_reviews_updated_at"))
        batch_op.drop_index("ix_gate_reviews_project_id_phase_created_at")
        batch_op.drop_index(batch_op.f("ix_gate_reviews_project_id"))

    op.drop_table("gate_reviews")
    with op.batch_alter_table("methodologies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_methodologies_updated_at"))

    op.drop_table("methodologies")
