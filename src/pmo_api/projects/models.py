from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, query_expression

from pmo_api.db.base import Archivable, Base, Entity, JSONDocument, string_enum

LIVE_PREDICATE = "archived_at IS NULL"
"""A project not archived, as an index's condition."""


class ProjectStatus(enum.StrEnum):
    """Where a project stands in its life."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Health(enum.StrEnum):
    """Overall health, as the latest status report set it."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class ComplianceState(enum.StrEnum):
    """What a project list's ``compliance`` filter asks for."""

    FAILING = "failing"
    COMPLIANT = "compliant"


def _count() -> Mapped[int]:
    """A count kept on the row: 0 for a new one (and for the rows a migration adds it to)."""
    return mapped_column(Integer, nullable=False, default=0, server_default="0")


ROLLUP_COLUMNS = (
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
"""The columns the rollups read of a live project (``ix_projects_live_portfolio_id``)."""


class Project(Entity, Archivable, Base):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("percent_complete BETWEEN 0 AND 100", name="percent_complete_range"),
        CheckConstraint("priority_score BETWEEN 0 AND 100", name="priority_score_range"),
        # The portfolio list's filter and default sort, served by one index scan.
        Index("ix_projects_portfolio_id_key", "portfolio_id", "key"),
        # A portfolio's live projects with every column its rollup sums and groups by:
        # on PostgreSQL the rollup reads this index alone (an index-only scan).
        Index(
            "ix_projects_live_portfolio_id",
            "portfolio_id",
            postgresql_include=list(ROLLUP_COLUMNS),
            postgresql_where=text(LIVE_PREDICATE),
            sqlite_where=text(LIVE_PREDICATE),
        ),
    )

    key: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    portfolio_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("portfolios.id"), nullable=False)
    manager_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id"), nullable=True, index=True
    )
    sponsor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id"), nullable=True, index=True
    )
    methodology: Mapped[str | None] = mapped_column(String(100), nullable=True)
    methodology_id: Mapped[uuid.UUID | None] = mapped_column(
        # methodologies are standards, declared above projects: the constraint is added
        # after both tables.
        ForeignKey("methodologies.id", use_alter=True),
        nullable=True,
        index=True,
    )
    """The methodology revision the project follows (its phases and gates)."""
    template_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("templates.id", use_alter=True), nullable=True
    )
    """The template revision the project was made from, if any."""
    phase: Mapped[str | None] = mapped_column(String(100), nullable=True)
    status: Mapped[ProjectStatus] = mapped_column(
        string_enum(ProjectStatus, "project_status"), nullable=False, index=True
    )
    health: Mapped[Health] = mapped_column(
        string_enum(Health, "health"), nullable=False, index=True
    )
    priority_score: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    planned_budget: Mapped[Decimal] = mapped_column(nullable=False)
    actual_cost: Mapped[Decimal] = mapped_column(nullable=False)
    planned_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    planned_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    actual_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    actual_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    percent_complete: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDocument, nullable=False)
    baseline_id: Mapped[uuid.UUID | None] = mapped_column(
        # baselines also name their project: the constraint is added after both tables.
        ForeignKey("baselines.id", use_alter=True),
        nullable=True,
    )
    """The current baseline: the newest one captured (set by the schedule service)."""

    # Figures kept on the project's row for the rollups, which sum them over a hundred
    # thousand projects without reading their records; none is part of its resource.
    open_risks: Mapped[int] = _count()
    """Its open risks (open or being mitigated, not archived): kept by the risks' writes."""
    open_high_risks: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    """Those scoring 10 or more."""
    baseline_budget: Mapped[Decimal | None] = mapped_column(nullable=True)
    """The current baseline's budget, start and end (a baseline never changes): set with
    ``baseline_id``."""
    baseline_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    baseline_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    rules_passed: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    """The rules in force it passed and failed at the compliance watch's last look."""
    rules_failed: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    rules_judged_at: Mapped[datetime | None] = mapped_column(nullable=True)
    """When the watch last judged it differently (null: never judged)."""
    aligned_objectives: Mapped[int] = _count()
    """The objectives it contributes to (live alignments, contribution 1 or more): kept
    by the alignments' writes."""

    open_risk_count: Mapped[int | None] = query_expression()
    """Loaded only by the queries that ask for it (lists: ``with_expression``), as a
    correlated count in the same statement; None otherwise."""

    __mapper_args__ = {"version_id_col": Entity.version}


def follow_baseline(
    project: Project, budget: Decimal | None, start: date | None, end: date | None
) -> None:
    """Keep the current baseline's budget and dates on the project's row (with
    ``baseline_id``, in the same change: not a field of its resource, nor of the trail)."""
    project.baseline_budget, project.baseline_start, project.baseline_end = budget, start, end
