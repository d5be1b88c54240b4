"""A cost entry's field types; the shapes of costs come from their declaration
(``declaration.py``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from pmo_api.core.schemas import (
    TEXT_PATTERN,
    SignedMoney,
)


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
ExternalReference = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=TEXT_PATTERN),
    Field(description="An external id, e.g. the invoice number.", examples=["INV-2027-0042"]),
]
