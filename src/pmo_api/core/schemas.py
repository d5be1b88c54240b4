"""Base schemas and the field types every resource shares."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

KEY_PATTERN = r"^[A-Z][A-Z0-9-]{1,19}$"
_KEY_RE = re.compile(KEY_PATTERN)
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"


class Input(BaseModel):
    """Every write body: unknown fields are refused, never silently dropped.

    Strings are taken as sent (no stripping), so the documented length limits and
    patterns are exactly the ones enforced.
    """

    model_config = ConfigDict(extra="forbid")


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Key = Annotated[
    str,
    StringConstraints(pattern=KEY_PATTERN),
    Field(description="Unique human key, e.g. ERP-2027", examples=["ERP-2027"]),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=10_000)]


Email = Annotated[
    str,
    StringConstraints(max_length=254, pattern=EMAIL_PATTERN),
    AfterValidator(str.lower),
    Field(examples=["ada@example.com"], description="Stored and compared in lower case."),
]


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


Money = Annotated[
    Decimal,
    Field(max_digits=14, decimal_places=2, ge=0, examples=[125000.0]),
    AfterValidator(_cents),
    PlainSerializer(float, return_type=float, when_used="json"),
]
"""Money in the deployment's currency: a JSON number with at most 2 decimals, stored exactly."""


def is_key(ref: str) -> bool:
    return bool(_KEY_RE.match(ref))


def parse_ref(ref: str) -> uuid.UUID | str:
    """A path reference: a UUID, or a human key. Anything else is refused by the caller."""
    try:
        return uuid.UUID(ref)
    except ValueError:
        return ref


class Patch(Input):
    """A partial update: a field not sent is left alone; ``null`` clears it where allowed.

    Fields listed in ``non_nullable`` may be omitted but not sent as null.
    """

    non_nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: object, info: ValidationInfo) -> object:
        if value is None and info.field_name in cls.non_nullable:
            raise ValueError("may be omitted but not null")
        return value

    def changes(self) -> dict[str, Any]:
        """Only what was sent, as the service applies it and the event records it."""
        return self.model_dump(exclude_unset=True)


class ListFilter(Input):
    """Filters every list has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    include_archived: bool = False
    updated_since: AwareDatetime | None = Field(
        default=None, description="Only records updated at or after this instant."
    )
