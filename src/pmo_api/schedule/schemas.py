from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from pmo_api.core.schemas import (
    Day,
    Input,
    Label,
    ListFilter,
    Money,
    Name,
    Patch,
    Read,
    SignedMoney,
    Text,
    dates_out_of_order,
)
from pmo_api.schedule.models import DeliverableStatus, MilestoneStatus

# -- milestones ------------------------------------------------------------------------------


class MilestoneCreate(Input):
    # Stated for clients: only a done milestone has a done date (the service refuses one
    # on any other status: 422 done_date_not_done).
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "if": {
                "properties": {"status": {"const": MilestoneStatus.DONE.value}},
                "required": ["status"],
            },
            "else": {"properties": {"done_date": {"type": "null"}}},
        },
    )

    name: Name
    description: Text | None = None
    due_date: Day
    status: MilestoneStatus = MilestoneStatus.PLANNED
    done_date: Day | None = Field(
        default=None, description="Only with status done; today when status done omits it."
    )


class MilestoneUpdate(Patch):
    non_nullable: ClassVar[frozenset[str]] = frozenset({"name", "due_date", "status"})

    name: Name | None = None
    description: Text | None = None
    due_date: Day | None = None
    status: MilestoneStatus | None = None
    done_date: Day | None = None


class MilestoneRead(Read):
    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    description: str | None
    due_date: Day
    done_date: Day | None
    status: MilestoneStatus
    overdue: bool = Field(
        description="Derived: planned or in progress, due before today, not archived."
    )
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class MilestoneFilter(ListFilter):
    sort_fields: ClassVar[tuple[str, ...]] = (
        "due_date",
        "name",
        "status",
        "created_at",
        "updated_at",
    )

    status: list[MilestoneStatus] | None = Field(default=None, max_length=4)
    overdue: bool | None = Field(
        default=None, description="true: only overdue milestones; false: only the others."
    )
    due_from: Day | None = Field(default=None, description="Due on or after this date.")
    due_to: Day | None = Field(default=None, description="Due on or before this date.")

    @model_validator(mode="after")
    def _range_in_order(self) -> Self:
        if self.due_from and self.due_to and self.due_to < self.due_from:
            raise dates_out_of_order("due_to", "due_from")
        return self


# -- deliverables ----------------------------------------------------------------------------


class DeliverableCreate(Input):
    name: Name
    description: Text | None = None
    phase: Label | None = None
    due_date: Day
    status: DeliverableStatus = DeliverableStatus.PLANNED


class DeliverableUpdate(Patch):
    non_nullable: ClassVar[frozenset[str]] = frozenset({"name", "due_date", "status"})

    name: Name | None = None
    description: Text | None = None
    phase: Label | None = None
    due_date: Day | None = None
    status: DeliverableStatus | None = None


class DeliverableRead(Read):
    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    description: str | None
    phase: str | None
    due_date: Day
    status: DeliverableStatus
    accepted_by: str | None = Field(description="The API key that accepted it (set on accept).")
    accepted_by_person_id: uuid.UUID | None = Field(
        description="The person that key acts for, if any."
    )
    accepted_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class DeliverableFilter(ListFilter):
    sort_fields: ClassVar[tuple[str, ...]] = (
        "due_date",
        "name",
        "status",
        "created_at",
        "updated_at",
    )

    status: list[DeliverableStatus] | None = Field(default=None, max_length=5)
    phase: Label | None = None


# -- baselines -------------------------------------------------------------------------------


class BaselineCreate(Input):
    name: Name
    description: Text | None = None


class BaselineMilestone(BaseModel):
    """A milestone as a baseline captured it."""

    id: uuid.UUID
    name: str
    due_date: Day
    status: MilestoneStatus


class BaselineRead(Read):
    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    description: str | None
    planned_start: Day | None
    planned_end: Day | None
    planned_budget: Money
    milestones: list[BaselineMilestone]
    captured_by: str = Field(description="The API key that captured it.")
    captured_by_person_id: uuid.UUID | None = Field(
        description="The person that key acts for, if any."
    )
    version: int
    created_at: datetime = Field(description="When the baseline was captured.")
    updated_at: datetime
    archived_at: datetime | None


class BaselineFilter(ListFilter):
    sort_fields: ClassVar[tuple[str, ...]] = ("created_at", "name", "updated_at")


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
