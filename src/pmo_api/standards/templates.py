"""What a project template holds: the fields a new project takes where its body says
nothing, and the milestones, standard risks and deliverables it starts with (dates as
offsets in days from the project's planned start)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from pmo_api.core.schemas import Label, Money, Name, Text
from pmo_api.projects.models import Health
from pmo_api.projects.schemas import Attributes, Percent


def _a_whole_number(value: Any) -> Any:
    """A JSON number, never a boolean (which Python would read as 0 or 1)."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


_NUMBER = BeforeValidator(_a_whole_number)
# The limits before the validator: they then bind to the number, and the contract
# states them.
Offset = Annotated[
    int, Field(ge=0, le=3650, description="Days after the project's planned start."), _NUMBER
]
Level = Annotated[int, Field(ge=1, le=5, description="1 (lowest) to 5 (highest)."), _NUMBER]


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemplateDefaults(_Document):
    """Project fields a new project takes where its body says nothing."""

    description: Text | None = None
    health: Health | None = None
    priority_score: Annotated[Percent, _NUMBER] | None = None
    planned_budget: Money | None = None
    duration_days: Annotated[int, Field(ge=1, le=3650), _NUMBER] | None = Field(
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
    probability: Level
    impact: Level
    mitigation: Text | None = None


class TemplateDeliverable(_Document):
    name: Name
    description: Text | None = None
    phase: Label | None = None
    offset_days: Offset
