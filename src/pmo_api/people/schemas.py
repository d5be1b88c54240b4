from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, Field, StringConstraints

from pmo_api.core.schemas import TEXT_PATTERN, Email, Input, ListFilter, Name, Patch, Read, Search


class Skill(BaseModel):
    model_config = {"extra": "forbid"}

    skill: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=TEXT_PATTERN)]
    level: int = Field(ge=1, le=5)


Skills = Annotated[list[Skill], Field(max_length=50)]
Capacity = Annotated[float, Field(ge=0, le=168, description="Hours per week.")]


class PersonCreate(Input):
    name: Name
    email: Email
    title: Name | None = None
    skills: Skills = Field(default_factory=list)
    weekly_capacity_hours: Capacity = 40.0
    active: bool = True


class PersonUpdate(Patch):
    non_nullable: ClassVar[frozenset[str]] = frozenset(
        {"name", "email", "skills", "weekly_capacity_hours", "active"}
    )

    name: Name | None = None
    email: Email | None = None
    title: Name | None = None
    skills: Skills | None = None
    weekly_capacity_hours: Capacity | None = None
    active: bool | None = None


class PersonRead(Read):
    id: uuid.UUID
    name: str
    email: str
    title: str | None
    skills: list[Skill]
    weekly_capacity_hours: float
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class PersonFilter(ListFilter):
    sort_fields: ClassVar[tuple[str, ...]] = ("name", "email", "created_at", "updated_at")

    q: Search | None = Field(default=None, description="Text search in name, email and title.")
    email: Email | None = None
    active: bool | None = None
    over_allocated: bool | None = Field(
        default=None,
        description="Peak daily load over 100 % on some day (or not): the assignments "
        "active on the same day sum above 100; archived assignments and assignments on "
        "archived projects do not count.",
    )
