"""Keyset pagination cursors: opaque, tamper-evident, bound to their filters and sort.

A cursor carries the sort key and id of the last row of a page, signed with
HMAC-SHA256. It is bound to a fingerprint of the filters and the sort it was
made for: replaying it with other filters is refused, so a walk can never
silently jump between two result sets.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import orjson

from pmo_api.core.errors import ErrorDetail, InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

_secret: bytes = b""


def configure(secret: bytes) -> None:
    """Set the signing secret (once, at start; every process sharing a database uses one)."""
    global _secret
    _secret = secret


@dataclass(frozen=True)
class SortSpec:
    """A validated sort: a field name and a direction."""

    field: str
    descending: bool = False

    @property
    def token(self) -> str:
        return ("-" if self.descending else "") + self.field


def parse_sort(raw: str | None, allowed: Sequence[str], default: str) -> SortSpec:
    value = raw or default
    descending = value.startswith("-")
    name = value[1:] if descending else value
    if name not in allowed:
        raise InvalidInput(
            code="invalid_sort",
            detail=f"Cannot sort by {name!r}; sortable fields: {', '.join(allowed)}.",
            errors=[ErrorDetail(("query", "sort"), "unknown sort field", "value_error")],
        )
    return SortSpec(name, descending)


@dataclass(frozen=True)
class Keyset:
    """The position after which the next page starts."""

    value: Any
    id: uuid.UUID


@dataclass(frozen=True)
class PageRequest:
    limit: int
    sort: SortSpec
    after: Keyset | None
    fingerprint: str


class PageCursors:
    """The cursor that resumes a list right after any row of one of its pages (a Relay
    edge's cursor): the row's sort value and id, bound like the page's next cursor.

    ``fingerprint`` may be given as a function, called once and only when a cursor is
    made: most reads of a page never ask for one."""

    __slots__ = ("_fingerprint", "field")

    def __init__(self, field: str, fingerprint: str | Callable[[], str]) -> None:
        self.field = field
        self._fingerprint = fingerprint

    @property
    def fingerprint(self) -> str:
        if not isinstance(self._fingerprint, str):
            self._fingerprint = self._fingerprint()
        return self._fingerprint

    def after(self, row: Any) -> str:
        """``row``: a record, or a read's row as a dict (``db.reads``)."""
        if isinstance(row, dict):
            return encode_cursor(self.fingerprint, row[self.field], row["id"])
        return encode_cursor(self.fingerprint, getattr(row, self.field), row.id)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    cursors: PageCursors | None = None
    """Makes each item's cursor; None for a list that cannot be resumed (one page)."""


def fingerprint(filters: Mapping[str, Any], sort: SortSpec) -> str:
    canonical = orjson.dumps(
        {"filters": {k: v for k, v in filters.items() if v is not None}, "sort": sort.token},
        option=orjson.OPT_SORT_KEYS,
        default=_encode_value,
    )
    return hashlib.sha256(canonical).hexdigest()[:16]


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, frozenset | set | tuple):
        return sorted(str(v) for v in value)
    if hasattr(value, "value"):  # enums
        return value.value
    raise TypeError(f"cannot encode {type(value).__name__} in a cursor")


def _sign(payload: bytes) -> str:
    mac = hmac.digest(_secret, payload, "sha256")[:18]  # one call into OpenSSL
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(fp: str, value: Any, row_id: uuid.UUID) -> str:
    payload = orjson.dumps({"f": fp, "v": value, "i": str(row_id)}, default=_encode_value)
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_sign(payload)}"


def _bad_cursor(detail: str, code: str = "invalid_cursor") -> InvalidInput:
    return InvalidInput(
        code=code,
        detail=detail,
        errors=[ErrorDetail(("query", "cursor"), detail, "value_error")],
    )


def decode_cursor(cursor: str, fp: str) -> tuple[Any, uuid.UUID]:
    """Verify a cursor and return the raw sort value and id it carries."""
    try:
        body, signature = cursor.split(".", 1)
        payload = _b64decode(body)
    except (ValueError, binascii.Error):
        raise _bad_cursor("The cursor is malformed.") from None
    if not hmac.compare_digest(signature.encode(), _sign(payload).encode()):
        raise _bad_cursor("The cursor was not issued by this service or was altered.")
    data = orjson.loads(payload)
    if data.get("f") != fp:
        raise _bad_cursor(
            "The cursor was made for other filters or another sort; start again without it.",
            code="cursor_mismatch",
        )
    return data["v"], uuid.UUID(data["i"])


def page_request(
    *,
    limit: int,
    cursor: str | None,
    sort: SortSpec,
    filters: Mapping[str, Any],
    decode_value: Any,
) -> PageRequest:
    """Build a PageRequest; ``decode_value`` turns the cursor's raw sort value back into
    the column's Python type."""
    fp = fingerprint(filters, sort)
    after = None
    if cursor:
        raw, row_id = decode_cursor(cursor, fp)
        try:
            after = Keyset(decode_value(raw), row_id)
        except (TypeError, ValueError):
            raise _bad_cursor("The cursor is malformed.") from None
    return PageRequest(limit=limit, sort=sort, after=after, fingerprint=fp)


@dataclass(frozen=True)
class ListParams:
    """What a caller asks of any list: page size, position and order (still unparsed)."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    sort: str | None = None
