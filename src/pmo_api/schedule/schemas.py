"""What a baseline holds of a milestone, and the comparison of two plans. The shapes of
milestones, deliverables and baselines come from their declarations
(``declaration.py``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from pmo_api.core.schemas import (
    Day,
    Money,
    SignedMoney,
)
from pmo_api.schedule.models import MilestoneStatus

# -- baselines -------------------------------------------------------------------------------


class BaselineMilestone(BaseModel):
    """A milestone as a baseline captured it."""

    id: uuid.UUID
    name: str
    due_date: Day
    status: MilestoneStatus


# -- comparing two plans ---------------------------------------------------------------------

_FROM_ALIAS = ConfigDict(serialize_by_alias=True)
"""``from`` is a Python keyword: the field is ``from_``, named ``from`` on the wire."""


class BaselinePlan(BaseModel):
    """One side of a comparison: a baseline, or the project's current plan."""

    kind: Literal["baseline", "current"]
    baseline_id: uuid.UUID | None
    name: str | None
    captured_at: datetime | None = Field(
        description="When the baseline was captured; for the current plan, its last change."
    )
    planned_start: Day | None
    planned_end: Day | None
    planned_budget: Money


class BaselineDateChange(BaseModel):
    model_config = _FROM_ALIAS

    from_: Day | None = Field(serialization_alias="from")
    to: Day | None
    days: int | None = Field(description="to - from in days; null when either is missing.")


class BaselineMoneyChange(BaseModel):
    model_config = _FROM_ALIAS

    from_: Money = Field(serialization_alias="from")
    to: Money
    delta: SignedMoney = Field(description="A difference of money (may be negative).")


class BaselinePlanChanges(BaseModel):
    planned_start: BaselineDateChange
    planned_end: BaselineDateChange
    planned_budget: BaselineMoneyChange


class BaselineMilestoneMove(BaseModel):
    model_config = _FROM_ALIAS

    id: uuid.UUID
    name: str
    from_: Day = Field(serialization_alias="from")
    to: Day
    days: int


class BaselineMilestoneChanges(BaseModel):
    added: list[BaselineMilestone] = Field(description="In `to`, not in `from`.")
    removed: list[BaselineMilestone] = Field(description="In `from`, not in `to`.")
    moved: list[BaselineMilestoneMove] = Field(description="In both, with another due date.")


class BaselineComparison(BaseModel):
    model_config = _FROM_ALIAS

    from_: BaselinePlan = Field(serialization_alias="from")
    to: BaselinePlan
    changes: BaselinePlanChanges
    milestones: BaselineMilestoneChanges
