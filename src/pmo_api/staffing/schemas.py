"""An assignment's field types and a person's load per week; the shapes of assignments
come from their declaration (``declaration.py``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from pmo_api.core.schemas import TEXT_PATTERN, Day

Role = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=TEXT_PATTERN),
    Field(description="What the person does on the project.", examples=["Business analyst"]),
]
Allocation = Annotated[
    int, Field(ge=1, le=100, description="Share of the person's time, 1 to 100 %.")
]


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
