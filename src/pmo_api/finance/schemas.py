from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Self

from pydantic import AfterValidator, Field, GetJsonSchemaHandler, StringConstraints, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from pmo_api.core.schemas import (
    TEXT_PATTERN,
    Day,
    Input,
    ListFilter,
    Patch,
    Read,
    SignedMoney,
    dates_out_of_order,
)
from pmo_api.finance.models import CostCategory


def _not_zero(value: Decimal) -> Decimal:
    if value == 0:
        raise ValueError("a cost entry's amount may not be zero")
    return value


class _StatedNotZero:
    """States ``_not_zero`` in the contract: neither the number 0 nor a zero string."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["not"] = {
            "anyOf": [{"const": 0}, {"type": "string", "pattern": r"^-?0{1,12}(\.0{1,2})?$"}]
        }
        return schema


Amount = Annotated[
    SignedMoney,
    AfterValidator(_not_zero),
    _StatedNotZero(),
    Field(description="Not zero; negative for a correction or a credit."),
]
Description = Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=TEXT_PATTERN)]
Reference = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=TEXT_PATTERN),
    Field(description="An external id, e.g. the invoice number.", examples=["INV-2027-0042"]),
]


class CostCreate(Input):
    incurred_on: Day
    amount: Amount
    category: CostCategory
    description: Description
    reference: Reference | None = None


class CostUpdate(Patch):
    non_nullable: ClassVar[frozenset[str]] = frozenset(
        {"incurred_on", "amount", "category", "description"}
    )

    incurred_on: Day | None = None
    amount: Amount | None = None
    category: CostCategory | None = None
    description: Description | None = None
    reference: Reference | None = None


class CostRead(Read):
    id: uuid.UUID
    project_id: uuid.UUID
    incurred_on: Day
    amount: SignedMoney
    category: CostCategory
    description: str
    reference: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class CostFilter(ListFilter):
    sort_fields: ClassVar[tuple[str, ...]] = ("incurred_on", "amount", "created_at", "updated_at")

    category: list[CostCategory] | None = Field(default=None, max_length=6)
    incurred_from: Day | None = Field(default=None, description="Incurred on or after.")
    incurred_to: Day | None = Field(default=None, description="Incurred on or before.")

    @model_validator(mode="after")
    def _range_in_order(self) -> Self:
        if self.incurred_from and self.incurred_to and self.incurred_to < self.incurred_from:
            raise dates_out_of_order("incurred_to", "incurred_from")
        return self
