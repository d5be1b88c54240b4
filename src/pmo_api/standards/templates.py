"""What a project template holds: the fields a new project takes where its body says
nothing, and the milestones, standard risks and deliverables it starts with (dates as
offsets in days from the project's planned start)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from pmo_api.core.schemas import Label, Money, Name, Text
from pmo_api.projects.models import Health
from pmo_api.projects.schemas import Attributes, Percent
from pmo_api.raid.schemas import Factor

Offset = Annotated[int, Field(ge=0, le=3650, description="Days after the project's planned start.")]


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemplateDefaults(_Document):
    """Project fields a new project takes where its body says nothing."""

    description: Text | None = None
    health: Health | None = None
    priority_score: Percent | None = None
    planned_budget: Money | None = None
    duration_days: Annotated[int, Field(ge=1, le=3650)] | None = Field(
        default=None, description="Sets the planned end this many days after the start."
    )
    attributes: Attributes | None = None


class TemplateMilestone(_Document):
    name: Name
    description: Text | None = None
    offset_days: Offset


class TemplateRisk(_Document):
    title: Name
    description: Text | None = None
    probability: Factor
    impact: Factor
    mitigation: Text | None = None


class TemplateDeliverable(_Document):
    name: Name
    description: Text | None = None
    phase: Label | None = None
    offset_days: Offset
