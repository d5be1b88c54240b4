"""The RAID log's field types and the body of a decision on a change request; the
shapes of risks, issues and change requests come from their declarations
(``declaration.py``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from pmo_api.core.schemas import Input, Text

Factor = Annotated[int, Field(ge=1, le=5, description="1 (lowest) to 5 (highest).")]
Score = Annotated[int, Field(ge=1, le=25)]

ImpactDays = Annotated[
    int,
    Field(
        ge=-3650,
        le=3650,
        description="Days the project's planned end moves on approval (negative: earlier). "
        "The planned start never moves.",
    ),
]


class ChangeDecision(Input):
    note: Text | None = Field(default=None, description="Why the change was approved or rejected.")
