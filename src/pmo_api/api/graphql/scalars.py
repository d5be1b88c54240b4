"""Scalars with the contract's own wire formats: money as an exact number, timestamps in
UTC with ``Z``, the same as the REST representations; enums as their docstrings
describe them."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

Money = NewType("Money", Decimal)
"""Money in the deployment's currency: a JSON number with at most 2 decimals."""


def _serialize_money(value: Decimal) -> float:
    return float(value)


def _parse_money(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("Money is a number such as 1250.50")
    try:
        # str() first: a float's shortest repr is what the client wrote, 0.1 stays 0.1.
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("Money is a number such as 1250.50") from None
    if not amount.is_finite():
        raise ValueError("Money is a finite number")
    return amount


def _serialize_datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime is an ISO 8601 string such as 2027-01-31T09:00:00Z")
    return datetime.fromisoformat(value)


SCALAR_MAP: dict[object, ScalarDefinition] = {
    Money: strawberry.scalar(
        name="Money",
        description="Money in the deployment's currency (PMO_CURRENCY): a number with at "
        "most 2 decimals, stored exactly.",
        serialize=_serialize_money,
        parse_value=_parse_money,
    ),
    datetime: strawberry.scalar(
        name="DateTime",
        description="An instant, ISO 8601 in UTC with Z, e.g. 2027-01-31T09:00:00Z.",
        serialize=_serialize_datetime,
        parse_value=_parse_datetime,
    ),
}


def graphql_enum(cls: type[enum.Enum]) -> None:
    """Register an enum once, described by its docstring (the OpenAPI document shows the
    same description)."""
    if not hasattr(cls, "_enum_definition"):
        strawberry.enum(cls, description=cls.__doc__)
