"""Base schemas and the field types every resource shares."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

KEY_PATTERN = r"^[A-Z][A-Z0-9-]{1,19}$"
_KEY_RE = re.compile(KEY_PATTERN)
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_contains_nul(v) for v in value)
    return False


class Input(BaseModel):
    """Every write body: unknown fields are refused, never silently dropped.

    Strings are taken as sent (no stripping), so the documented length limits and
    patterns are exactly the ones enforced.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        # PostgreSQL text cannot hold U+0000; refuse it here, for every string at any
        # depth (values and keys), rather than fail at the database.
        if _contains_nul(data):
            raise ValueError("text may not contain the NUL character (U+0000)")
        return data


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


MAX_MONEY = Decimal("999999999999.99")
"""The largest amount a money column holds (NUMERIC(14,2)): every computed total is
checked against it before it is written."""


Money = Annotated[
    Decimal,
    Field(max_digits=14, decimal_places=2, ge=0, examples=[125000.0]),
    AfterValidator(_cents),
    PlainSerializer(float, return_type=float, when_used="json"),
]
"""Money in the deployment's currency: a JSON number with at most 2 decimals, stored exactly."""

SignedMoney = Annotated[
    Decimal,
    Field(max_digits=14, decimal_places=2, examples=[-1500.0]),
    AfterValidator(_cents),
    PlainSerializer(float, return_type=float, when_used="json"),
]
"""Money that may be negative: variances, deltas, corrections."""


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


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day_only(value: object) -> object:
    # Pydantic would also take a number (Unix time) or a timestamp as a date; the API
    # promises YYYY-MM-DD.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DAY.match(value):
        raise ValueError("expected a date as YYYY-MM-DD, e.g. 2027-01-31")
    return value


Day = Annotated[date, BeforeValidator(_iso_day_only)]
"""A calendar date in a query or body: ``YYYY-MM-DD`` only."""

_ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_instant_only(value: object) -> object:
    # Pydantic would also take a number as Unix time; the API promises ISO 8601.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_INSTANT.match(value):
        raise ValueError(
            "expected an ISO 8601 timestamp with a UTC offset, e.g. 2027-01-31T09:00:00Z"
        )
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_iso_instant_only)]
"""A point in time in a query or body: ISO 8601 with an offset (``Z`` for UTC)."""


class ListFilter(Input):
    """Filters every list has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    include_archived: bool = False
    updated_since: Instant | None = Field(
        default=None, description="Only records updated at or after this instant."
    )
