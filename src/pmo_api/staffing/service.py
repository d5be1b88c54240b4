"""Assignments' own behaviour: the person assigned must be active; and each person's
peak daily load per ISO week, where over-allocation shows. Listing, reading, adding,
changing and archiving assignments are the shared use cases (``records/service.py``),
run with the declaration of ``declaration.py``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import DomainError, ErrorDetail, InvalidInput
from pmo_api.people.models import Person
from pmo_api.people.repository import PersonRepository
from pmo_api.staffing import repository
from pmo_api.staffing.models import Assignment, week_of
from pmo_api.staffing.repository import OVER_ALLOCATED_ABOVE
from pmo_api.staffing.schemas import AllocationRead, WeekAssignment, WeekLoad

DEFAULT_WEEKS = 12
MAX_WEEKS = 104
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
LAST_MONDAY = week_of(date.max - 6 * DAY)
"""The last week wholly in the calendar starts here (its Sunday is 9999-12-26)."""


def inactive(person: Person) -> DomainError | None:
    """Only an active person is assigned (else 422 ``person_inactive``)."""
    if person.active:
        return None
    return InvalidInput(
        code="person_inactive",
        detail=f"person_id: {person.name} is not active and cannot be assigned.",
        errors=[ErrorDetail(("body", "person_id"), "inactive person", "value_error")],
    )


def allocation_weeks(today: date, start: date | None, end: date | None) -> tuple[date, date]:
    """The Mondays of the first and last week of an allocation range.

    Default: the 12 ISO weeks from the current one; ``to`` may not be before ``from``
    (today when not given), a range ends no later than 104 weeks after it starts, and
    its last week must end in the calendar (by 9999-12-26): else 422.
    """
    since = start if start is not None else today
    if end is not None and end < since:
        raise InvalidInput(
            code="invalid_range",
            detail=f"to ({end}) is before from ({since}).",
            errors=[ErrorDetail(("query", "to"), "before from", "value_error")],
        )
    first = week_of(since)
    try:
        last = week_of(end) if end is not None else first + (DEFAULT_WEEKS - 1) * WEEK
    except OverflowError:
        last = date.max
    if last > LAST_MONDAY:
        raise InvalidInput(
            code="date_out_of_range",
            detail=f"The weeks asked for run past the end of the calendar ({date.max}): "
            f"the last week must end by {LAST_MONDAY + 6 * DAY}; send an earlier from or to.",
            errors=[
                ErrorDetail(
                    ("query", "to" if end is not None else "from"),
                    "past the calendar",
                    "value_error",
                )
            ],
        )
    weeks = (last - first) // WEEK + 1
    if weeks > MAX_WEEKS:
        raise InvalidInput(
            code="range_too_long",
            detail=f"The range spans {weeks} weeks; at most {MAX_WEEKS} are allowed.",
            errors=[ErrorDetail(("query", "to"), f"at most {MAX_WEEKS} weeks", "value_error")],
        )
    return first, last


def _week_load(week: date, rows: list[Assignment]) -> WeekLoad:
    """The week's peak daily load: the highest sum of the allocations of the assignments
    active on the same day (start to end date inclusive), Monday to Sunday."""
    sunday = week + 6 * DAY
    touching = [a for a in rows if a.start_date <= sunday and a.end_date >= week]
    days = (week + offset * DAY for offset in range(7))
    percent = max(
        sum(a.allocation_percent for a in touching if a.start_date <= day <= a.end_date)
        for day in days
    )
    return WeekLoad(
        week_start=week,
        allocation_percent=percent,
        over_allocated=percent > OVER_ALLOCATED_ABOVE,
        assignments=[
            WeekAssignment(
                id=a.id,
                project_id=a.project_id,
                role=a.role,
                allocation_percent=a.allocation_percent,
            )
            for a in touching
        ],
    )


def _load(person_id: uuid.UUID, rows: list[Assignment], first: date, last: date) -> AllocationRead:
    # The rows are what the answer lists week by week anyway (the person's assignments in
    # at most 104 weeks, fetched in one statement); each week's peak is taken from them.
    count = (last - first) // WEEK + 1
    weeks = [_week_load(first + n * WEEK, rows) for n in range(count)]
    peak = max((w.allocation_percent for w in weeks), default=0)
    return AllocationRead(
        person_id=person_id,
        weeks=weeks,
        over_allocated=peak > OVER_ALLOCATED_ABOVE,
        peak_allocation_percent=peak,
    )


async def people_allocations(
    ctx: ServiceContext, person_ids: Sequence[uuid.UUID], start: date | None, end: date | None
) -> dict[uuid.UUID, AllocationRead]:
    """Each person's peak daily load per ISO week (one statement for all of them:
    DataLoaders). Archived assignments and assignments on archived projects do not
    count."""
    first, last = allocation_weeks(ctx.now.date(), start, end)
    rows = await repository.active_between(ctx.session, person_ids, first, last + 6 * DAY)
    by_person: dict[uuid.UUID, list[Assignment]] = {person_id: [] for person_id in person_ids}
    for row in rows:
        by_person[row.person_id].append(row)
    return {
        person_id: _load(person_id, assignments, first, last)
        for person_id, assignments in by_person.items()
    }


async def person_allocation(
    ctx: ServiceContext, person_id: uuid.UUID, start: date | None, end: date | None
) -> AllocationRead:
    allocation_weeks(ctx.now.date(), start, end)  # a bad range is refused before the look-up
    person = await PersonRepository(ctx.session).require(person_id, ctx.principal)
    return (await people_allocations(ctx, [person.id], start, end))[person.id]
