"""The schedule's queries beyond a record type's own reads (``records/repository.py``):
each project's next and overdue milestones, what a baseline captures, baselines by id.

Every role reads every project's records (the object rules restrict writes).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import with_expression
from sqlalchemy.sql.base import ExecutableOption

from pmo_api.core.errors import not_found
from pmo_api.schedule.models import (
    OPEN_MILESTONE_STATUSES,
    Baseline,
    Milestone,
    overdue_clause,
)


@functools.lru_cache(maxsize=4)
def _overdue_option(today: date) -> ExecutableOption:
    """Building the option copies its expression (about a millisecond): once a day."""
    return with_expression(Milestone.overdue, overdue_clause(today))


def milestones(today: date) -> Select[Milestone]:
    """Milestones, with ``overdue`` derived for ``today`` in the same query."""
    return select(Milestone).options(_overdue_option(today))


async def overdue_counts(
    session: AsyncSession, project_ids: Sequence[uuid.UUID], today: date
) -> dict[uuid.UUID, int]:
    if not project_ids:
        return {}
    stmt = (
        select(Milestone.project_id, func.count())
        .where(Milestone.project_id.in_(set(project_ids)), overdue_clause(today))
        .group_by(Milestone.project_id)
    )
    counts = {row[0]: int(row[1]) for row in (await session.execute(stmt)).all()}
    return {project_id: counts.get(project_id, 0) for project_id in project_ids}


async def next_by_project(
    session: AsyncSession, project_ids: Sequence[uuid.UUID], today: date
) -> dict[uuid.UUID, Milestone]:
    """Each project's earliest-due open milestone (not done, cancelled or archived)."""
    if not project_ids:
        return {}
    position = func.row_number().over(
        partition_by=Milestone.project_id,
        order_by=(Milestone.due_date.asc(), Milestone.id.asc()),
    )
    ranked = (
        select(Milestone.id, position.label("position"))
        .where(
            Milestone.project_id.in_(set(project_ids)),
            Milestone.status.in_(OPEN_MILESTONE_STATUSES),
            Milestone.archived_at.is_(None),
        )
        .subquery()
    )
    stmt = milestones(today).where(
        Milestone.id.in_(select(ranked.c.id).where(ranked.c.position == 1))
    )
    return {row.project_id: row for row in (await session.scalars(stmt)).all()}


async def open_on_project(
    session: AsyncSession, project_id: uuid.UUID, today: date
) -> list[Milestone]:
    """The project's non-archived milestones, as a baseline captures them."""
    stmt = (
        milestones(today)
        .where(Milestone.project_id == project_id, Milestone.archived_at.is_(None))
        .order_by(Milestone.due_date, Milestone.id)
    )
    return list((await session.scalars(stmt)).all())


async def find_baseline(session: AsyncSession, baseline_id: uuid.UUID) -> Baseline | None:
    found: Baseline | None = await session.scalar(
        select(Baseline).where(Baseline.id == baseline_id)
    )
    return found


async def require_baseline(session: AsyncSession, baseline_id: uuid.UUID) -> Baseline:
    found = await find_baseline(session, baseline_id)
    if found is None:
        raise not_found("baseline", baseline_id)
    return found
