from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, Field, StringConstraints

from pmo_api.core.schemas import TEXT_PATTERN, Day, Input, ListFilter, Patch, Read

Role = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=TEXT_PATTERN),
    Field(description="What the person does on the project.", examples=["Business analyst"]),
]
Allocation = Annotated[
    int, Field(ge=1, le=100, description="Share of the person's time, 1 to 100 %.")
]


class AssignmentCreate(Input):
    person_id: uuid.UUID
    role: Role
    allocation_percent: Allocation
    start_date: Day
    end_date: Day = Field(description="On or after start_date (else 422 dates_out_of_order).")


class AssignmentUpdate(Patch):
    non_nullable: ClassVar[frozenset[str]] = frozenset(
        {"person_id", "role", "allocation_percent", "start_date", "end_date"}
    )

    person_id: uuid.UUID | None = None
    role: Role | None = None
    allocation_percent: Allocation | None = None
    start_date: Day | None = None
    end_date: Day | None = None


class AssignmentRead(Read):
    id: uuid.UUID
    project_id: uuid.UUID
    person_id: uuid.UUID
    role: str
    allocation_percent: int
    start_date: Day
    end_date: Day
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class AssignmentFilter(ListFilter):
    sort_fields: ClassVar[tuple[str, ...]] = (
        "start_date",
        "end_date",
        "allocation_percent",
        "created_at",
        "updated_at",
    )

    person_id: uuid.UUID | None = None
    active_on: Day | None = Field(
        default=None, description="Only assignments whose dates include this day."
    )


class WeekAssignment(BaseModel):
    """One assignment active on at least one day of the week."""

    id: uuid.UUID
    project_id: uuid.UUID
    role: str
    allocation_percent: int


class WeekLoad(BaseModel):
    week_start: Day = Field(description="The Monday of the ISO week.")
    allocation_percent: int = Field(
        description="Peak daily load: the highest sum, on one day of the week, of the "
        "allocations of the assignments active that day (start to end date inclusive)."
    )
    over_allocated: bool = Field(description="Peak daily load over 100 %.")
    assignments: list[WeekAssignment] = Field(
        description="The assignments active on at least one day of the week."
    )


class AllocationRead(BaseModel):
    """A person's peak daily load per ISO week over a range of weeks. Archived
    assignments and assignments on archived projects do not count."""

    person_id: uuid.UUID
    weeks: list[WeekLoad]
    over_allocated: bool = Field(
        description="Peak daily load over 100 % on at least one day of the range."
    )
    peak_allocation_percent: int = Field(
        description="The peak daily load: the highest of the weeks' loads in the range."
    )
