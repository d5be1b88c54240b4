"""Objectives, declared once: strategic goals with a key, a weight and a period."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from pydantic import Field as Limits
from sqlalchemy import ColumnElement, and_

from pmo_api.core.access import is_staff
from pmo_api.core.schemas import Day, Key, Name, Text
from pmo_api.objectives.models import Objective, ObjectiveStatus
from pmo_api.people.declaration import PERSON
from pmo_api.resources.declaration import Docs, ResourceType, Writers
from pmo_api.resources.fields import Field, Filter

Weight = Annotated[
    int, Limits(ge=1, le=100, description="How much it counts against the others, 1 to 100.")
]


def _covers(day: Any, _today: date) -> ColumnElement[bool]:
    return and_(Objective.period_start <= day, Objective.period_end >= day)


OBJECTIVES = ResourceType(
    name="objective",
    model=Objective,
    keyed=True,
    fields=(
        Field("key", Key),
        Field("title", Name),
        Field("description", Text | None, None),
        Field("weight", Weight, 1),
        Field("period_start", Day, description="The first day of the period it covers."),
        Field("period_end", Day, description="The last day of the period it covers."),
        Field(
            "owner_id",
            uuid.UUID | None,
            None,
            "The executive accountable for it.",
            refers_to=PERSON,
        ),
        Field("status", ObjectiveStatus, ObjectiveStatus.ACTIVE),
    ),
    in_order=(("period_start", "period_end"),),
    filters=(
        Filter.search(
            (Objective.key, Objective.title, Objective.description),
            "Text search in key, title and description.",
        ),
        Filter.one_of(Objective.status, ObjectiveStatus),
        Filter.equal(Objective.owner_id, uuid.UUID),
        Filter("period_on", Day, _covers, "Only objectives whose period covers this day."),
    ),
    sorts=("key", "title", "weight", "period_start", "created_at", "updated_at"),
    default_sort="key",
    writers=Writers(is_staff, ("role_forbidden", "Only pmo and admin keys set objectives.")),
    unique="key",
    docs=Docs(
        summary="A strategic objective of the business: what the portfolio is aligned with.",
        listed="Objectives, filtered",
        create="Set an objective (pmo, admin).",
        update="Change the fields sent (pmo, admin).",
        archive="Archive an objective (pmo, admin): readable by id, no longer listed.",
    ),
)
