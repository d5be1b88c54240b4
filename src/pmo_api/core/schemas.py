"""Base schemas and the field types every resource shares."""

from __future__ import annotations

import re
import types
import typing
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
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

KEY_PATTERN = r"^[A-Z][A-Z0-9-]{1,19}$"
_KEY_RE = re.compile(KEY_PATTERN)
TEXT_PATTERN = r"^[^\x00]*$"
"""Any text but the NUL character, which PostgreSQL cannot store (``Input`` refuses it
at any depth; the pattern states it in the contract)."""
# Not "@", a control character or a space. Spelled out rather than ``\s``, which means
# other characters in the service's regular expressions (U+0085 is a space to them) than
# in the contract's (ECMA-262, where U+FEFF is one and U+0085 is not).
_EMAIL_CHAR = r"[^@\x00-\x20\x7f-\x9f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
EMAIL_PATTERN = rf"^{_EMAIL_CHAR}{{1,64}}@{_EMAIL_CHAR}+\.{_EMAIL_CHAR}+$"


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

    json_body: ClassVar[bool] = True
    """Validated from a JSON body (False: from a query string, where all is text)."""
    _json_kinds: ClassVar[dict[str, type]] = {}
    """Each field that is a JSON number or boolean: what it must be."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._json_kinds = {
            name: kind
            for name, field in cls.model_fields.items()
            if cls.json_body and (kind := _json_kind(field.annotation)) is not None
        }

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        # PostgreSQL text cannot hold U+0000; refuse it here, for every string at any
        # depth (values and keys), rather than fail at the database.
        if _contains_nul(data):
            raise ValueError("text may not contain the NUL character (U+0000)")
        return data

    @field_validator("*", mode="before")
    @classmethod
    def _as_json_types(cls, value: object, info: ValidationInfo) -> object:
        """A number sent as a boolean or a string, or a boolean sent as anything else, is
        refused, as the contract's JSON types say (pydantic's lax mode would take
        ``true`` as 1, ``"5"`` as 5 and ``1`` as true)."""
        kind = cls._json_kinds.get(info.field_name or "")
        if kind is None or value is None:
            return value
        if kind is bool and not isinstance(value, bool):
            raise PydanticCustomError("bool_type", "Input should be a valid boolean")
        if kind is int and isinstance(value, bool | str):
            raise PydanticCustomError("number_type", "Input should be a valid number")
        return value


def _json_kind(annotation: Any) -> type | None:
    """``int`` for a field that is a JSON integer or number (``int``, ``float``, maybe
    null), ``bool`` for a boolean; None for any other."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is Annotated:
        return _json_kind(args[0])
    if args and typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = {_json_kind(a) for a in args}
        return kinds.pop() if len(kinds) == 1 else None
    if annotation is bool:
        return bool
    if annotation in (int, float):
        return int
    return None


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Key = Annotated[
    str,
    StringConstraints(pattern=KEY_PATTERN),
    Field(description="Unique human key, e.g. ERP-2027", examples=["ERP-2027"]),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=TEXT_PATTERN)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=TEXT_PATTERN)]
"""A short label: a phase, a methodology, a role on a project."""
Text = Annotated[str, StringConstraints(max_length=10_000, pattern=TEXT_PATTERN)]
Search = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=TEXT_PATTERN)]
"""A ``q=`` text search: case-insensitive, anywhere in the searched fields."""


def _lower_case(value: str) -> str:
    """Lower case, never longer than sent: the stated max_length holds for what is
    stored. (Only U+0130, capital I with dot above, lowers to two characters; it then
    stays as sent.)"""
    lowered = value.lower()
    if len(lowered) == len(value):
        return lowered
    return "".join(c if len(c.lower()) > 1 else c.lower() for c in value)


Email = Annotated[
    str,
    StringConstraints(max_length=254, pattern=EMAIL_PATTERN),
    AfterValidator(_lower_case),
    Field(examples=["ada@example.com"], description="Stored and compared in lower case."),
]


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


MAX_MONEY = Decimal("999999999999.99")
"""The largest amount a money column holds (NUMERIC(14,2)): every computed total is
checked against it before it is written."""

MONEY_TEXT_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
SIGNED_MONEY_TEXT_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$"


def _money_text(pattern: str, example: str) -> Any:
    """Money sent as a JSON string is a plain decimal (``"1250.50"``): no exponent,
    spaces, underscores or digits other than 0-9, which Decimal would read too; so the
    ``pattern`` in the contract is exactly what is accepted."""
    regex = re.compile(pattern)
    message = (
        "expected money as a JSON number or a plain decimal string such as "
        f"{example}: at most 12 digits before the point and 2 after"
    )

    def check(value: object) -> object:
        if isinstance(value, str) and not regex.fullmatch(value):
            raise PydanticCustomError("money_format", message)
        return value

    return BeforeValidator(check)


def _money_schema(minimum: Decimal, text_pattern: str) -> WithJsonSchema:
    """What a money field accepts, stated exactly: a number on the cent grid within the
    column's range, or the same amount as a plain decimal string."""
    return WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "number",
                    "minimum": float(minimum),
                    "maximum": float(MAX_MONEY),
                    "multipleOf": 0.01,
                },
                {"type": "string", "pattern": text_pattern},
            ]
        },
        mode="validation",
    )


Money = Annotated[
    Decimal,
    Field(max_digits=14, decimal_places=2, ge=0, examples=[125000.0]),
    _money_text(MONEY_TEXT_PATTERN, '"1250.50"'),
    AfterValidator(_cents),
    PlainSerializer(float, return_type=float, when_used="json"),
    _money_schema(Decimal(0), MONEY_TEXT_PATTERN),
]
"""Money in the deployment's currency: 0 to 999,999,999,999.99 with at most 2 decimals,
as a JSON number (or a plain decimal string), stored exactly."""

SignedMoney = Annotated[
    Decimal,
    Field(max_digits=14, decimal_places=2, examples=[-1500.0]),
    _money_text(SIGNED_MONEY_TEXT_PATTERN, '"-1250.50"'),
    AfterValidator(_cents),
    PlainSerializer(float, return_type=float, when_used="json"),
    _money_schema(-MAX_MONEY, SIGNED_MONEY_TEXT_PATTERN),
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


def _state_non_nullable(schema: dict[str, Any], model: type[Any]) -> None:
    """The contract of a Patch: a field in ``non_nullable`` may be omitted but not sent
    as null, so its schema loses the ``null`` branch (and the null default)."""
    properties = schema.get("properties", {})
    for name in getattr(model, "non_nullable", ()):
        prop = properties.get(name)
        if prop is None or "anyOf" not in prop:
            continue
        branches = [b for b in prop["anyOf"] if b != {"type": "null"}]
        del prop["anyOf"]
        if prop.get("default", ...) is None:
            del prop["default"]
        if len(branches) == 1:
            prop.update(branches[0])
        else:
            prop["anyOf"] = branches


class Patch(Input):
    """A partial update: a field not sent is left alone; ``null`` clears it where allowed.

    Fields listed in ``non_nullable`` may be omitted but not sent as null.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=_state_non_nullable)

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


DATES_OUT_OF_ORDER = "dates_out_of_order"
RULE_ERRORS = frozenset({DATES_OUT_OF_ORDER})
"""Error types of the rules between two values of one input (an end before its start),
which no schema states: the REST door answers them with the type as the problem code,
not the generic ``validation_failed``."""


def dates_out_of_order(end: str, start: str) -> PydanticCustomError:
    """Raise it from a model validator when the date ``end`` is before ``start``."""
    return PydanticCustomError(
        DATES_OUT_OF_ORDER, "{end} is before {start}", {"end": end, "start": start}
    )


class ListFilter(Input):
    """Filters every list has."""

    json_body: ClassVar[bool] = False

    model_config = ConfigDict(extra="forbid", frozen=True)

    include_archived: bool = False
    updated_since: Instant | None = Field(
        default=None, description="Only records updated at or after this instant."
    )
