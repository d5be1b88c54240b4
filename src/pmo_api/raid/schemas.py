from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import ConfigDict, Field

from pmo_api.core.schemas import (
    TEXT_PATTERN,
    Day,
    Input,
    ListFilter,
    Name,
    Patch,
    Read,
    SignedMoney,
    Text,
)
from pmo_api.raid.models import (
    RESOLVED_ISSUE_STATUSES,
    ChangeStatus,
    IssueSeverity,
    IssueStatus,
    RiskResponse,
    RiskStatus,
)

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


# -- risks -----------------------------------------------------------------------------------


class RiskCreate(Input):
    title: Name
    description: Text | None = None
    probability: Factor
    impact: Factor
    owner_id: uuid.UUID | None = None
    mitigation: Text | None = None
    response: RiskResponse | None = None
    status: RiskStatus = RiskStatus.OPEN
    last_reviewed_on: Day | None = Field(
        default=None, description="When the risk was last reviewed; not in the future."
    )


class RiskUpdate(Patch):
    non_nullable: ClassVar[frozenset[str]] = frozenset({"title", "probability", "impact", "status"})

    title: Name | None = None
    description: Text | None = None
    probability: Factor | None = None
    impact: Factor | None = None
    owner_id: uuid.UUID | None = None
    mitigation: Text | None = None
    response: RiskResponse | None = None
    status: RiskStatus | None = None
    last_reviewed_on: Day | None = Field(
        default=None, description="Record a review: its date, not in the future."
    )


class RiskRead(Read):
    id: uuid.UUID
    project_id: uuid.UUID
    title: str
    description: str | None
    probability: int
    impact: int
    score: int = Field(description="probability x impact (1-25).")
    owner_id: uuid.UUID | None
    mitigation: str | None
    response: RiskResponse | None
    status: RiskStatus
    last_reviewed_on: Day | None
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class RiskFilter(ListFilter):
    sort_fields: ClassVar[tuple[str, ...]] = ("score", "created_at", "updated_at", "title")

    status: list[RiskStatus] | None = Field(default=None, max_length=4)
    min_score: Score | None = Field(default=None, description="Only risks scoring at least this.")
    owner_id: uuid.UUID | None = None


# -- issues ----------------------------------------------------------------------------------


class IssueCreate(Input):
    # Stated for clients: a new issue that is already resolved or closed carries a
    # resolution (the service refuses it otherwise: 422 resolution_required).
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "if": {
                "properties": {"status": {"enum": [s.value for s in RESOLVED_ISSUE_STATUSES]}},
                "required": ["status"],
            },
            "then": {
                "properties": {
                    "resolution": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 10_000,
                        "pattern": TEXT_PATTERN,
                    }
                },
                "required": ["resolution"],
            },
        },
    )

    title: Name
    description: Text | None = None
    severity: IssueSeverity = IssueSeverity.MEDIUM
    owner_id: uuid.UUID | None = None
    status: IssueStatus = IssueStatus.OPEN
    resolution: Text | None = Field(
        default=None, description="Required when the status is resolved or closed."
    )


class IssueUpdate(Patch):
    non_nullable: ClassVar[frozenset[str]] = frozenset({"title", "severity", "status"})

    title: Name | None = None
    description: Text | None = None
    severity: IssueSeverity | None = None
    owner_id: uuid.UUID | None = None
    status: IssueStatus | None = None
    resolution: Text | None = None


class IssueRead(Read):
    id: uuid.UUID
    project_id: uuid.UUID
    title: str
    description: str | None
    severity: IssueSeverity
    owner_id: uuid.UUID | None
    status: IssueStatus
    resolution: str | None
    resolved_at: datetime | None = Field(description="Set when the issue is resolved or closed.")
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class IssueFilter(ListFilter):
    sort_fields: ClassVar[tuple[str, ...]] = ("created_at", "updated_at", "title")

    status: list[IssueStatus] | None = Field(default=None, max_length=4)
    severity: list[IssueSeverity] | None = Field(default=None, max_length=4)
    owner_id: uuid.UUID | None = None


# -- change requests -------------------------------------------------------------------------


class ChangeCreate(Input):
    title: Name
    description: Text | None = None
    budget_impact: SignedMoney = Field(
        default=Decimal("0.00"), description="Added to the planned budget on approval."
    )
    schedule_impact_days: ImpactDays = 0


class ChangeUpdate(Patch):
    non_nullable: ClassVar[frozenset[str]] = frozenset(
        {"title", "budget_impact", "schedule_impact_days"}
    )

    title: Name | None = None
    description: Text | None = None
    budget_impact: SignedMoney | None = None
    schedule_impact_days: ImpactDays | None = None


class ChangeDecision(Input):
    note: Text | None = Field(default=None, description="Why the change was approved or rejected.")


class ChangeRead(Read):
    id: uuid.UUID
    project_id: uuid.UUID
    title: str
    description: str | None
    budget_impact: SignedMoney
    schedule_impact_days: int
    status: ChangeStatus
    decided_by: str | None = Field(description="The API key that approved or rejected it.")
    decided_by_person_id: uuid.UUID | None
    decided_at: datetime | None
    decision_note: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class ChangeFilter(ListFilter):
    sort_fields: ClassVar[tuple[str, ...]] = (
        "created_at",
        "updated_at",
        "title",
        "budget_impact",
        "schedule_impact_days",
    )

    status: list[ChangeStatus] | None = Field(default=None, max_length=3)
