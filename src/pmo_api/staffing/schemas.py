from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, ClassVar, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from pmo_api.core.schemas import Input, ListFilter, Patch, Read

Role = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100),
    Field(description="What the person does on the project.", examples=["Business analyst"]),
]
Allocation = Annotated[
    int, Field(ge=1, le=100, description="Share of the person's time, 1 to 100 %.")
]


class AssignmentCreate(Input):
    person_id: uuid.UUID
    role: Role
    allocation_percent: Allocation
    start_date: date
    end_date: date

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class AssignmentUpdate(Patch):
    non_nullable: ClassVar[frozenset[str]] = frozenset(
        {"person_id", "role", "allocation_percent", "start_date", "end_date"}
    )

    person_id: uuid.UUID | None = None
    role: Role | None = None
    allocation_percent: Allocation | None = None
    start_date: date | None = None
    end_date: date | None = None


class AssignmentRead(Read):
    id: uuid.UUID
    project_id: uuid.UUID
    person_id: uuid.UUID
    role: str
    allocation_percent: int
    start_date: date
    end_date: date
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class AssignmentFilter(ListFilter):
    person_id: uuid.UUID | None = None
    active_on: date | None = Field(
        default=None, description="Only assignments whose dates include this day."
    )


class WeekAssignment(BaseModel):
    """One assignment counted in a week's load."""

    id: uuid.UUID
    project_id: uuid.UUID
    role: str
    allocation_percent: int


class WeekLoad(BaseModel):
    week_start: date = Field(description="The Monday of the ISO week.")
    allocation_percent: int = Field(
        description="Sum of the allocations of the assignments whose dates touch the week."
    )
    over_allocated: bool = Field(description="More than 100 %.")
    assignments: list[WeekAssignment]


class AllocationRead(BaseModel):
    """A person's load per ISO week over a range of weeks."""

    person_id: uuid.UUID
    weeks: list[WeekLoad]
    over_allocated: bool = Field(description="Over 100 % in at least one week of the range.")
    peak_allocation_percent: int = Field(description="The highest weekly load in the range.")
