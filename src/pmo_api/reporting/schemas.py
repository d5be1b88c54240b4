"""The difference between two status reports; the shapes of status reports come from
their declaration (``declaration.py``)."""

from __future__ import annotations

import enum
import uuid

from pydantic import BaseModel, ConfigDict, Field

from pmo_api.core.schemas import (
    SignedMoney,
)
from pmo_api.projects.models import Health

# -- the difference with the previous submitted report ------------------------------------


class HealthTrend(enum.StrEnum):
    """How a health moved since the previous report."""

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
