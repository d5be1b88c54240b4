"""GraphQL input objects as the values a service input model validates.

A field left out of a GraphQL input is ``UNSET`` and is left out of the values too,
so ``XUpdate.changes()`` sees exactly what the client sent ("not sent" is not
"null"). Reference fields accept a global id as well as a UUID.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import strawberry

from pmo_api.api.graphql.relay import raw_uuid


def provided(
    input: object | None, references: Mapping[str, str | None] | None = None
) -> dict[str, Any]:
    """The fields the client sent; ``references`` maps id fields to their node type."""
    if input is None:
        return {}
    references = references or {}
    values: dict[str, Any] = {}
    for field in dataclasses.fields(input):  # type: ignore[arg-type]
        value = getattr(input, field.name)
        if value is strawberry.UNSET:
            continue
        if field.name in references and isinstance(value, str):
            value = raw_uuid(value, references[field.name])
        values[field.name] = plain_value(value)
    return values


def plain_value(value: Any) -> Any:
    """A value sent as GraphQL gives it (input objects, lists of them) as plain data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return provided(value)
    if isinstance(value, list):
        return [plain_value(item) for item in value]
    return value
