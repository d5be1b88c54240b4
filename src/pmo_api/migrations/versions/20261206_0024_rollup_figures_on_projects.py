"""projects: the figures a rollup sums kept on the project's row: its open (and open
high) risks, its current baseline's budget and dates, the rules the compliance watch
found passed and failed, the objectives it contributes to

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 16:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pmo_api.db.base import Money, UTCDateTime

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "r.project_id = projects.id AND r.status IN ('open', 'mitigating') AND r.archived_at IS NULL"
BASELINE = "SELECT b.{} FROM baselines b WHERE b.id = projects.baseline_id"
INDEX = "ix_projects_live_portfolio_id"
LIVE = sa.text("archived_at IS NULL")
ROLLUP = (
    "id",
    "status",
    "health",
    "phase",
    "planned_budget",
    "actual_cost",
    "percent_complete",
    "open_risks",
    "open_high_risks",
    "baseline_budget",
    "baseline_start",
    "baseline_end",
    "rules_passed",
    "rules_failed",
    "rules_judged_at",
    "aligned_objectives",
)


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        for name in ("open_risks", "open_high_risks"):
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("baseline_budget", Money(), nullable=True))
        batch_op.add_column(sa.Column("baseline_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("baseline_end", sa.Date(), nullable=True))
        for name in ("rules_passed", "rules_failed", "aligned_objectives"):
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("rules_judged_at", UTCDateTime(timezone=True), nullable=True))
    op.execute(
        f"UPDATE projects SET open_risks = (SELECT count(*) FROM risks r WHERE {OPEN}), "
        f"open_high_risks = (SELECT count(*) FROM risks r WHERE {OPEN} AND r.score >= 10)"
    )
    op.execute(
        f"UPDATE projects SET baseline_budget = ({BASELINE.format('planned_budget')}), "
        f"baseline_start = ({BASELINE.format('planned_start')}), "
        f"baseline_end = ({BASELINE.format('planned_end')}) WHERE baseline_id IS NOT NULL"
    )
    op.execute(
        "UPDATE projects SET aligned_objectives = (SELECT count(*) FROM alignments a "
        "WHERE a.project_id = projects.id AND a.archived_at IS NULL AND a.contribution > 0)"
    )
    # The rules passed and failed come with the compliance watch's next look.
    # The rollups read a live project's row from this index alone on PostgreSQL.
    op.drop_index(INDEX, table_name="projects")
    _create_index(ROLLUP)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="projects")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        for name in (
            "aligned_objectives",
            "rules_judged_at",
            "rules_failed",
            "rules_passed",
            "baseline_end",
            "baseline_start",
            "baseline_budget",
            "open_high_risks",
            "open_risks",
        ):
            batch_op.drop_column(name)
    _create_index(ROLLUP[:6])


def _create_index(included: Sequence[str]) -> None:
    op.create_index(
        INDEX,
        "projects",
        ["portfolio_id"],
        postgresql_include=list(included),
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )
