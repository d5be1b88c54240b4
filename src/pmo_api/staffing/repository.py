"""Staffing's queries beyond a record type's own reads (``records/repository.py``): the
assignments that count in a person's load, and over-allocation in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from pmo_api.projects.models import Project
from pmo_api.staffing.models import Assignment

OVER_ALLOCATED_ABOVE = 100


def counting(assignment: Any) -> ColumnElement[bool]:
    """The assignments that count in a person's load: not archived, on a project that
    is not archived."""
    live_projects = select(Project.id).where(Project.archived_at.is_(None))
    return and_(assignment.archived_at.is_(None), assignment.project_id.in_(live_projects))


def over_allocated(person_id: InstrumentedAttribute[uuid.UUID]) -> ColumnElement[bool]:
    """True for a person whose peak daily load exceeds 100 %, computed by the database.

    A person's daily load only rises on a day one of their assignments starts, so the
    peak day is the start date of some assignment ``a1``: the person is over-allocated
    when, for some ``a1``, the assignments active on ``a1``'s start date sum above 100.
    """
    a1, a2 = aliased(Assignment), aliased(Assignment)
    load = (
        select(func.sum(a2.allocation_percent))
        .where(a2.person_id == a1.person_id)
        .where(a2.start_date <= a1.start_date)
        .where(a2.end_date >= a1.start_date)
        .where(counting(a2))
        .scalar_subquery()
    )
    return exists().where(a1.person_id == person_id, counting(a1), load > OVER_ALLOCATED_ABOVE)


async def active_between(
    session: AsyncSession, person_ids: Sequence[uuid.UUID], first_day: date, last_day: date
) -> Sequence[Assignment]:
    """The people's assignments that count in their load and are active on some day
    from ``first_day`` to ``last_day``, in one statement."""
    stmt = (
        select(Assignment)
        .where(Assignment.person_id.in_(set(person_ids)))
        .where(counting(Assignment))
        .where(Assignment.start_date <= last_day)
        .where(Assignment.end_date >= first_day)
        .order_by(Assignment.person_id, Assignment.start_date, Assignment.id)
    )
    return (await session.scalars(stmt)).all()
