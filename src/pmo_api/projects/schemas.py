from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Self

from pydantic import Field, GetJsonSchemaHandler, StringConstraints, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from pmo_api.core.schemas import (
    TEXT_PATTERN,
    Day,
    Input,
    Key,
    Label,
    ListFilter,
    Money,
    Name,
    Patch,
    Read,
    Search,
    Text,
    dates_out_of_order,
)
from pmo_api.projects.models import Health, ProjectStatus

ATTRIBUTE_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
AttributeName = Annotated[str, StringConstraints(pattern=ATTRIBUTE_NAME_PATTERN)]
AttributeValue = (
    Annotated[str, StringConstraints(max_length=1000, pattern=TEXT_PATTERN)]
    # A whole number the JSON column and its readers hold exactly: a signed 64-bit one
    # (a larger one is taken as a float).
    | Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
    | float
    | bool
    | None
)


class _OnlyNamedByPattern:
    """States that every attribute name matches the pattern: ``patternProperties``
    alone checks the values of the names that match, and lets any other name through."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["additionalProperties"] = False
        return schema


Attributes = Annotated[
    dict[AttributeName, AttributeValue],
    Field(max_length=50, description="Custom fields: snake_case names, scalar values."),
    _OnlyNamedByPattern(),
]
Percent = Annotated[int, Field(ge=0, le=100)]


def _check_order(start: Day | None, end: Day | None, what: str) -> None:
    if start is not None and end is not None and end < start:
        raise dates_out_of_order(f"{what}_end", f"{what}_start")


class ProjectCreate(Input):
    key: Key
    name: Name
    description: Text | None = None
    portfolio_id: uuid.UUID
    manager_id: uuid.UUID | None = None
    sponsor_id: uuid.UUID | None = None
    methodology: Label | None = None
    phase: Label | None = None
    status: ProjectStatus = ProjectStatus.PROPOSED
    health: Health = Health.GREEN
    priority_score: Percent = 0
    planned_budget: Money = Decimal("0.00")
    planned_start: Day | None = None
    planned_end: Day | None = None
    actual_start: Day | None = None
    actual_end: Day | None = None
    percent_complete: Percent = 0
    attributes: Attributes = Field(default_factory=dict)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        _check_order(self.planned_start, self.planned_end, "planned")
        _check_order(self.actual_start, self.actual_end, "actual")
        return self


class ProjectUpdate(Patch):
    non_nullable: ClassVar[frozenset[str]] = frozenset(
        {
            "key",
            "name",
            "portfolio_id",
            "status",
            "health",
            "priority_score",
            "planned_budget",
            "percent_complete",
            "attributes",
        }
    )

    key: Key | None = None
    name: Name | None = None
    description: Text | None = None
    portfolio_id: uuid.UUID | None = None
    manager_id: uuid.UUID | None = None
    sponsor_id: uuid.UUID | None = None
    methodology: Label | None = None
    phase: Label | None = None
    status: ProjectStatus | None = None
    health: Health | None = None
    priority_score: Percent | None = None
    planned_budget: Money | None = None
    planned_start: Day | None = None
    planned_end: Day | None = None
    actual_start: Day | None = None
    actual_end: Day | None = None
    percent_complete: Percent | None = None
    attributes: Attributes | None = None
    baseline_id: uuid.UUID | None = Field(
        default=None,
        description="Make one of the project's baselines the current one (what variance is "
        "measured against); null: none. Capturing a baseline makes it current.",
    )


class ProjectRead(Read):
    id: uuid.UUID
    key: str
    name: str
    description: str | None
    portfolio_id: uuid.UUID
    manager_id: uuid.UUID | None
    sponsor_id: uuid.UUID | None
    methodology: str | None
    phase: str | None
    status: ProjectStatus
    health: Health
    priority_score: int
    planned_budget: Money
    actual_cost: Money
    planned_start: Day | None
    planned_end: Day | None
    actual_start: Day | None
    actual_end: Day | None
    percent_complete: int
    attributes: dict[str, AttributeValue]
    baseline_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class ProjectListItem(ProjectRead):
    """A project as lists show it: its representation plus summary counts, computed in
    the list's own statement (the single GET keeps only what its version ETag covers)."""

    open_risk_count: int = Field(description="Risks open or being mitigated.")


class ProjectFilter(ListFilter):
    sort_fields: ClassVar[tuple[str, ...]] = (
        "key",
        "name",
        "created_at",
        "updated_at",
        "priority_score",
        "percent_complete",
        "planned_budget",
        "status",
        "health",
    )

    q: Search | None = Field(default=None, description="Text search in key, name and description.")
    portfolio_id: uuid.UUID | None = None
    include_sub_portfolios: bool = Field(
        default=False, description="With portfolio_id: also projects of nested portfolios."
    )
    manager_id: uuid.UUID | None = None
    sponsor_id: uuid.UUID | None = None
    status: list[ProjectStatus] | None = Field(default=None, max_length=5)
    health: list[Health] | None = Field(default=None, max_length=3)
    phase: Label | None = None
    methodology: Label | None = None
