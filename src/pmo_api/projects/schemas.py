"""The types of a project's own fields (its shapes come from its declaration)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, GetJsonSchemaHandler, Strict, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from pmo_api.core.schemas import TEXT_PATTERN

ATTRIBUTE_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
AttributeName = Annotated[str, StringConstraints(pattern=ATTRIBUTE_NAME_PATTERN)]
AttributeValue = (
    Annotated[str, StringConstraints(max_length=1000, pattern=TEXT_PATTERN)]
    # A whole number the JSON column and its readers hold exactly: a signed 64-bit one
    # (a larger one is taken as a float).
    | Annotated[int, Strict(), Field(ge=-(2**63), le=2**63 - 1)]
    | Annotated[float, Strict()]
    | Annotated[bool, Strict()]
    | None
)
"""The numbers and booleans are strict: a string is never read as one (a numeric text
too long for the string limit is refused, not stored as a number)."""


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


TemplateRef = Annotated[
    str,
    StringConstraints(
        pattern=r"^([A-Z][A-Z0-9-]{1,19}|[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
        r"[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})$"
    ),
    Field(description="A template's key, or the id of one of its revisions."),
]

RuleCodeRef = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z][A-Z0-9_-]{1,39}$"),
    Field(description="A policy rule's code, e.g. STATUS-FRESH."),
]
