from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Self

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from pmo_api.core.schemas import Day, Input, ListFilter, Patch, Read, SignedMoney
from pmo_api.finance.models import CostCategory


def _not_zero(value: Decimal) -> Decimal:
    if value == 0:
        raise ValueError("a cost entry's amount may not be zero")
    return value


Amount = Annotated[
    SignedMoney,
    AfterValidator(_not_zero),
    Field(description="Not zero; negative for a correction or a credit."),
]
Description = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
Reference = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100),
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
    category: list[CostCategory] | None = Field(default=None, max_length=6)
    incurred_from: Day | None = Field(default=None, description="Incurred on or after.")
    incurred_to: Day | None = Field(default=None, description="Incurred on or before.")

    @model_validator(mode="after")
    def _range_in_order(self) -> Self:
        if self.incurred_from and self.incurred_to and self.incurred_to < self.incurred_from:
            raise ValueError("incurred_to is before incurred_from")
        return self
