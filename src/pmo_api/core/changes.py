"""A record's fields as exact JSON values, and what changed between two of them: the
audit trail's before/after, and what tells a real change from a no-op write."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def jsonable(value: Any) -> Any:
    """A JSON-safe, exact rendering of a field value for the audit trail."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


_PLAIN = frozenset({str, int, float, bool, type(None)})


def snapshot(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    return {name: jsonable(getattr(obj, name)) for name in fields}


def changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    return {
        name: {"before": before.get(name), "after": value}
        for name, value in after.items()
        if not same_json(before.get(name), value)
    }


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: unlike ``==``, ``true`` is not ``1`` and ``false`` not ``0``
    (at any depth), so a write that only swaps one for the other is not lost as a no-op."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
