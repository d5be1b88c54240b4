from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pmo_api.core.schemas import (
    Day,
    Input,
    ListFilter,
    Money,
    Patch,
    Read,
    SignedMoney,
    Text,
    dates_out_of_order,
)
from pmo_api.projects.models import Health
from pmo_api.reporting.models import ReportState


class StatusReportCreate(Input):
    """A new draft. The figures (percent complete, costs, risks, milestones) are not
    sent: the service freezes the project's own when the report is submitted."""

    period_start: Day
    period_end: Day = Field(description="On or after period_start (else 422 dates_out_of_order).")
    overall_health: Health
    schedule_health: Health = Health.GREEN
    budget_health: Health = Health.GREEN
    scope_health: Health = Health.GREEN
    resources_health: Health = Health.GREEN
    summary: Text | None = None
    accomplishments: Text | None = None
    next_steps: Text | None = None


class StatusReportUpdate(Patch):
    """Changes to a draft; a submitted report is immutable."""

    non_nullable: ClassVar[frozenset[str]] = frozenset(
        {
            "period_start",
            "period_end",
            "overall_health",
            "schedule_health",
            "budget_health",
            "scope_health",
            "resources_health",
        }
    )

    period_start: Day | None = None
    period_end: Day | None = None
    overall_health: Health | None = None
    schedule_health: Health | None = None
    budget_health: Health | None = None
    scope_health: Health | None = None
    resources_health: Health | None = None
    summary: Text | None = None
    accomplishments: Text | None = None
    next_steps: Text | None = None


class StatusReportRead(Read):
    id: uuid.UUID
    project_id: uuid.UUID
    period_start: Day
    period_end: Day = Field(description="On or after period_start (else 422 dates_out_of_order).")
    overall_health: Health
    schedule_health: Health
    budget_health: Health
    scope_health: Health
    resources_health: Health
    summary: str | None
    accomplishments: str | None
    next_steps: str | None
    state: ReportState
    submitted_by: str | None = Field(description="The API key's name that submitted it.")
    submitted_by_person_id: uuid.UUID | None
    submitted_at: datetime | None
    percent_complete: int | None = Field(description="The project's, frozen at submission.")
    actual_cost: SignedMoney | None = Field(description="The project's, frozen at submission.")
    planned_budget: Money | None = Field(description="The project's, frozen at submission.")
    open_risks: int | None = Field(description="Open risks at submission.")
    overdue_milestones: int | None = Field(description="Overdue milestones at submission.")
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class StatusReportFilter(ListFilter):
    sort_fields: ClassVar[tuple[str, ...]] = (
        "period_end",
        "created_at",
        "updated_at",
        "submitted_at",
    )

    state: list[ReportState] | None = Field(default=None, max_length=2)
    period_from: Day | None = Field(
        default=None, description="Only reports whose period ends on or after this date."
    )
    period_to: Day | None = Field(
        default=None, description="Only reports whose period starts on or before this date."
    )
    overall_health: list[Health] | None = Field(default=None, max_length=3)

    @model_validator(mode="after")
    def _window_in_order(self) -> Self:
        if (
            self.period_from is not None
            and self.period_to is not None
            and self.period_to < self.period_from
        ):
            raise dates_out_of_order("period_to", "period_from")
        return self


# -- the difference with the previous submitted report ------------------------------------


class HealthTrend(enum.StrEnum):
    IMPROVED = "improved"
    WORSENED = "worsened"
    SAME = "same"


class _Diff(BaseModel):
    # "from" is a Python keyword: the field is from_, the JSON name "from".
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)


class HealthChange(_Diff):
    from_: Health | None = Field(alias="from", description="Null on a project's first report.")
    to: Health
    change: HealthTrend | None = Field(description="Null on a project's first report.")


class CountChange(_Diff):
    from_: int | None = Field(alias="from")
    to: int
    delta: int | None


class MoneyChange(_Diff):
    from_: SignedMoney | None = Field(alias="from")
    to: SignedMoney
    delta: SignedMoney | None = Field(description="to - from (may be negative).")


class HealthChanges(BaseModel):
    overall: HealthChange
    schedule: HealthChange
    budget: HealthChange
    scope: HealthChange
    resources: HealthChange


class FigureChanges(BaseModel):
    percent_complete: CountChange
    actual_cost: MoneyChange
    planned_budget: MoneyChange
    open_risks: CountChange
    overdue_milestones: CountChange


class StatusReportDiff(BaseModel):
    """A report against the project's previous submitted report (by period end).

    A submitted report's figures are those frozen at its submission; a draft's are the
    project's live figures, as they would be frozen if it were submitted now.
    """

    report_id: uuid.UUID
    previous_id: uuid.UUID | None = Field(description="Null when no earlier report was submitted.")
    live_figures: bool = Field(description="True for a draft: `to` figures are live, not frozen.")
    health: HealthChanges
    figures: FigureChanges
