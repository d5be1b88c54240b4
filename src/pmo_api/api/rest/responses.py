"""Presenting resources: ETags, conditional requests, lists as JSON or CSV, 201s."""

from __future__ import annotations

import csv
import enum
import functools
import hashlib
import io
import re
import types
import typing
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Header, Request
from pydantic import BaseModel, PlainSerializer, TypeAdapter
from starlette.responses import Response
from typing_extensions import TypedDict

from pmo_api.core.pagination import Page

M = TypeVar("M", bound=BaseModel)

JSON = "application/json"
CSV = "text/csv"


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"


def etag_for_version(version: int) -> str:
    return f'"{version}"'


def _matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    candidates = {part.strip().removeprefix("W/") for part in header.split(",")}
    return "*" in candidates or etag in candidates


IF_MATCH_PATTERN = r'^(\*|(W/)?"[0-9]{1,12}")$'


async def expected_version(
    if_match: Annotated[
        str | None,
        Header(
            pattern=IF_MATCH_PATTERN,
            description='The ETag (e.g. "3") the change is based on; a mismatch is a 412.',
        ),
    ] = None,
) -> int | None:
    """If-Match as the version a write expects (None: no precondition)."""
    if if_match is None or if_match == "*":
        return None
    return int(if_match.removeprefix("W/").strip('"'))


def _row_annotation(annotation: Any) -> Any:
    """A field's type for serialising a row: enums as their ``str`` values (a row read
    on PostgreSQL holds the value, on SQLite the member; both print the same)."""
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return str
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _row_type(annotation)  # a JSON column's documents: dicts in a row
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_row_annotation(arg) for arg in typing.get_args(annotation))]  # noqa: UP007
    if origin is list:
        return list[_row_annotation(typing.get_args(annotation)[0])]  # type: ignore[misc]
    return annotation


@functools.cache
def _row_type(schema: type[BaseModel]) -> Any:
    """``schema``'s fields as a TypedDict: a row (a dict from ``db.reads``) is then
    serialised by pydantic-core as the schema would print it, in one pass, without
    being validated again (the database already holds valid values). Keys the schema
    does not name are left out."""
    fields: dict[str, Any] = {}
    for name, field in schema.model_fields.items():
        annotation = _row_annotation(field.annotation)
        fields[name] = Annotated[(annotation, *field.metadata)] if field.metadata else annotation
    row_type: Any = TypedDict(f"{schema.__name__}Row", fields)  # type: ignore[misc]
    return row_type


def _printable_from_rows(schema: type[BaseModel]) -> bool:
    """Whether a row prints like the schema: plain fields only (no aliases, no
    computed fields, no custom serialiser), nested models too."""
    nested = [
        arg
        for field in schema.model_fields.values()
        for arg in (field.annotation, *typing.get_args(field.annotation))
        if isinstance(arg, type) and issubclass(arg, BaseModel)
    ]
    if not all(_printable_from_rows(model) for model in nested):
        return False
    return (
        not schema.__pydantic_decorators__.computed_fields
        and not any(
            field.serialization_alias or field.alias for field in schema.model_fields.values()
        )
        and not schema.__pydantic_decorators__.model_serializers
        and not (schema.__pydantic_decorators__.field_serializers)
    )


@functools.cache
def _row_adapter(schema: type[BaseModel]) -> TypeAdapter[Any] | None:
    return TypeAdapter(_row_type(schema)) if _printable_from_rows(schema) else None


@functools.cache
def _page_adapter(schema: type[BaseModel]) -> TypeAdapter[Any] | None:
    if not _printable_from_rows(schema):
        return None
    page_type: Any = TypedDict(  # type: ignore[misc]
        f"{schema.__name__}RowPage",
        {"items": list[_row_type(schema)], "next_cursor": str | None},  # type: ignore[misc]
    )
    return TypeAdapter(page_type)


def dump_row(schema: type[BaseModel], row: Any) -> bytes:
    """A record as JSON bytes: a row straight through pydantic-core, a model object
    validated into ``schema`` first."""
    if isinstance(row, dict):
        names = _plain_fields(schema)
        if names is not None:  # see _plain_fields
            (shown,) = _shown((row,), names)
            return orjson.dumps(shown, default=_plain_value, option=orjson.OPT_UTC_Z)
    adapter = _row_adapter(schema) if isinstance(row, dict) else None
    if adapter is not None:
        return adapter.dump_json(row)
    return schema.model_validate(row).model_dump_json().encode()


def dump(model: BaseModel) -> bytes:
    return orjson.dumps(model.model_dump(mode="json"))


def resource(
    request: Request,
    schema: type[M],
    obj: Any,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    conditional: bool = True,
) -> Response:
    """A versioned record; ETag = its version (for If-Match). ``conditional=False`` for
    a representation that also changes with time, not only with the version (a derived
    ``overdue``): a GET then never answers 304 on If-None-Match."""
    etag = etag_for_version(obj["version"] if isinstance(obj, dict) else obj.version)
    all_headers = {"ETag": etag, **(headers or {})}
    if (
        conditional
        and request.method == "GET"
        and _matches(request.headers.get("if-none-match"), etag)
    ):
        return Response(status_code=304, headers=all_headers)
    return Response(
        content=dump_row(schema, obj),
        status_code=status_code,
        media_type=JSON,
        headers=all_headers,
    )


def body_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def computed(
    request: Request, body: bytes, media_type: str = JSON, headers: dict[str, str] | None = None
) -> Response:
    """A figure computed on request (a comparison, a diff, a rollup): no version of its
    own, so its ETag is a hash of the body, and If-None-Match answers 304 on a match."""
    all_headers = {"ETag": body_etag(body), **(headers or {})}
    if _matches(request.headers.get("if-none-match"), all_headers["ETag"]):
        return Response(status_code=304, headers=all_headers)
    return Response(content=body, media_type=media_type, headers=all_headers)


def figures(request: Request, model: BaseModel) -> Response:
    return computed(request, model.model_dump_json().encode())


def document(request: Request, shown: dict[str, Any]) -> Response:
    """``figures`` for a document already as JSON shows it (plain values: see
    ``_plain_value``), printed by orjson."""
    return computed(request, orjson.dumps(shown, default=_plain_value, option=orjson.OPT_UTC_Z))


def created(request: Request, schema: type[M], obj: Any, location: str) -> Response:
    return resource(request, schema, obj, status_code=201, headers={"Location": location})


def wants_csv(request: Request, fmt: Format | None) -> bool:
    if fmt is not None:
        return fmt is Format.CSV
    accept = request.headers.get("accept", "")
    return CSV in accept and JSON not in accept


def next_page_url(request: Request, cursor: str) -> str:
    """The request's URL with ``cursor`` in place of its own: the query as the client
    sent it, no other parameter touched. (Starlette's ``include_query_params`` parses
    and re-encodes the whole URL: 3 % of a list page's CPU.) A cursor is URL-safe base64
    and a dot: it needs no quoting. A Host header that is not a plain host and port is
    not copied into the link; the server's own address is."""
    scope = request.scope
    query = scope["query_string"].decode("latin-1")
    kept = [part for part in query.split("&") if part and part.split("=", 1)[0] != "cursor"]
    kept.append("cursor=" + cursor)
    host = request.headers.get("host")
    if host is None or not _PLAIN_HOST.match(host):
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server else "localhost"
    path = scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    return f"{scope['scheme']}://{host}{path}?{'&'.join(kept)}"


_PLAIN_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$")


def printed_plain(request: Request, schema: type[BaseModel], fmt: Format | None) -> bool:
    """Whether a page of ``schema``'s rows is printed by orjson as the rows are (JSON,
    every field plain): the rows may then be read for JSON (``db.reads.Reads.all``)."""
    return not wants_csv(request, fmt) and _plain_fields(schema) is not None


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    if value is None:
        return ""
    return value


def to_csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])
    return buffer.getvalue().encode()


def page(
    request: Request, schema: type[M], result: Page[Any], fmt: Format | None = None
) -> Response:
    """A list page: ``{"items": [...], "next_cursor": ...}``, or CSV; ETag over the body."""
    headers: dict[str, str] = {}
    if result.next_cursor:
        headers["Link"] = f'<{next_page_url(request, result.next_cursor)}>; rel="next"'
        headers["X-Next-Cursor"] = result.next_cursor
    if wants_csv(request, fmt):
        rows = [schema.model_validate(item).model_dump(mode="json") for item in result.items]
        body = to_csv(list(schema.model_fields), rows)
        media_type = CSV + "; charset=utf-8"
    else:
        of_rows = _all_rows(result.items)
        names = _plain_fields(schema) if of_rows else None
        adapter = _page_adapter(schema) if of_rows and names is None else None
        if names is not None:  # rows of plain values: orjson, see _plain_fields
            body = orjson.dumps(
                {"items": _shown(result.items, names), "next_cursor": result.next_cursor},
                default=_plain_value,
                option=orjson.OPT_UTC_Z,
            )
        elif adapter is not None:  # rows: serialised in one pass, see _row_type
            body = adapter.dump_json({"items": result.items, "next_cursor": result.next_cursor})
        else:  # model objects: validated into the schema, then serialised
            listing = ListOf[schema].model_validate(  # type: ignore[valid-type]
                {"items": result.items, "next_cursor": result.next_cursor}, from_attributes=True
            )
            body = listing.model_dump_json().encode()
        media_type = JSON
    etag = body_etag(body)
    headers["ETag"] = etag
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type=media_type, headers=headers)


_MONEY_AS_FLOAT = PlainSerializer(float, return_type=float, when_used="json")


def _plain(annotation: Any, metadata: Sequence[Any]) -> bool:
    """Whether a field's values print the same through orjson as through pydantic:
    strings, numbers, booleans, UUIDs, dates, UTC datetimes, enums read as their values,
    JSON documents, and money printed as a float (``Money``)."""
    if any(isinstance(m, PlainSerializer) for m in metadata):
        return any(m == _MONEY_AS_FLOAT for m in metadata)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return all(_plain(arg, ()) for arg in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _plain(typing.get_args(annotation)[0], annotation.__metadata__)
    if origin in (dict, list):
        return True  # JSON documents, held as the database returns them
    return annotation in (str, int, bool, type(None), uuid.UUID, datetime, date, Decimal) or (
        isinstance(annotation, type) and issubclass(annotation, enum.Enum)
    )


def _shown(rows: Sequence[dict[str, Any]], names: frozenset[str]) -> Sequence[dict[str, Any]]:
    """The rows with only the schema's fields (most rows hold nothing else)."""
    if all(row.keys() <= names for row in rows):
        return rows
    return [{k: v for k, v in row.items() if k in names} for row in rows]


@functools.cache
def _plain_fields(schema: type[BaseModel]) -> frozenset[str] | None:
    """The field names of a schema whose every field is plain (``_plain``): its rows are
    then printed by orjson, a third of the time pydantic-core takes for a page."""
    if not _printable_from_rows(schema):
        return None
    for field in schema.model_fields.values():
        if not _plain(field.annotation, field.metadata):
            return None
    return frozenset(schema.model_fields)


def _plain_value(value: Any) -> Any:
    """What orjson does not print itself: money (a float, as ``Money`` prints it), a
    driver's own UUID type."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"not a plain value: {type(value).__name__}")


def _all_rows(items: Sequence[Any]) -> bool:
    return all(isinstance(item, dict) for item in items)


class ListOf(BaseModel, Generic[M]):
    """A page of a list: the items and the cursor of the next page (null at the end)."""

    items: list[M]
    next_cursor: str | None
