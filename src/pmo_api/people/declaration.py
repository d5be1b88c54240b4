"""People, declared once: the directory of managers, sponsors, owners and team members."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints
from pydantic import Field as Limits

from pmo_api.core.context import ServiceContext
from pmo_api.core.schemas import TEXT_PATTERN, Email, Name
from pmo_api.people import access
from pmo_api.people.models import Person
from pmo_api.resources.declaration import Docs, ResourceType, Writers
from pmo_api.resources.fields import Field, Filter, owned

SkillName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=TEXT_PATTERN)]
"""A skill's name (what a course builds)."""
SkillLevel = Annotated[int, Limits(ge=1, le=5, description="1 (novice) to 5.")]


class Skill(BaseModel):
    """A skill and how well the person holds it, 1 (novice) to 5."""

    model_config = {"extra": "forbid"}

    skill: SkillName
    level: int = Limits(ge=1, le=5)


Skills = Annotated[list[Skill], Limits(max_length=50)]


Capacity = Annotated[float, Limits(ge=0, le=168, description="Hours per week.")]

PEOPLE = ResourceType(
    name="person",
    model=Person,
    path="people",
    fields=(
        Field("name", Name),
        Field("email", Email),
        Field("title", Name | None, None),
        Field("skills", Skills, []),
        Field("weekly_capacity_hours", Capacity, 40.0),
        Field("active", bool, True),
    ),
    filters=(
        Filter.search(
            (Person.name, Person.email, Person.title), "Text search in name, email and title."
        ),
        Filter.equal(Person.email, Email),
        Filter.equal(Person.active, bool),
        Filter.elsewhere(
            "over_allocated",
            bool,
            "Peak daily load over 100 % on some day (or not): the assignments active on the "
            "same day sum above 100; archived assignments and assignments on archived "
            "projects do not count.",
        ),
    ),
    sorts=("name", "email", "created_at", "updated_at"),
    default_sort="name",
    writers=Writers(access.can_edit, ("role_forbidden", "Only pmo and admin keys change people.")),
    unique="email",
    docs=Docs(
        summary="Someone in the directory: manager, sponsor, owner, team member.",
        listed="The directory",
        create="Add a person to the directory (pmo, admin).",
        update="Change the fields sent (pmo, admin).",
        archive="Archive a person: still readable by id, hidden in lists.",
    ),
)

PERSON = PEOPLE.reference
"""A field naming a person (a project's manager, a risk's owner)."""


def acted_by(name: str, did: str, *, until_done: bool = False) -> tuple[Field, Field]:
    """The two fields naming who wrote a record: the API key (``name``) and the person it
    acts for (``<name>_person_id``); ``acting`` gives their values. ``until_done``: null
    until someone does it (who closed a finding)."""
    return (
        owned(name, str | None if until_done else str, f"The API key that {did} it."),
        owned(
            f"{name}_person_id",
            uuid.UUID | None,
            "The person the key acts for, if any.",
            refers_to=PERSON,
        ),
    )


def acting(ctx: ServiceContext, name: str) -> dict[str, Any]:
    """The values of ``acted_by(name, ...)``: the caller's key and person."""
    return {name: ctx.principal.name, f"{name}_person_id": ctx.principal.person_id}
