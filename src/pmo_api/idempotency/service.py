"""Idempotent POSTs: the first response is stored in the same transaction as the write.

A retry with the same key and request replays it; the same key with another
request is refused. Two requests racing with one key cannot both write: the
second one's insert waits on the unique index until the first commits, then
replays what the first stored (see ``claim``).
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict, ErrorDetail, InvalidInput
from pmo_api.db import writes
from pmo_api.idempotency.models import IdempotencyRecord


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    headers: dict[str, str]
    body: bytes


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def _reused(detail: str) -> InvalidInput:
    return InvalidInput(
        code="idempotency_key_reused",
        detail=detail,
        errors=[ErrorDetail(("header", "Idempotency-Key"), detail, "value_error")],
    )


async def _existing(ctx: ServiceContext, key: str) -> IdempotencyRecord | None:
    return await ctx.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == ctx.principal.key_id,
            IdempotencyRecord.idempotency_key == key,
        )
    )


def _replay(record: IdempotencyRecord, fingerprint: str) -> StoredResponse:
    if record.request_fingerprint != fingerprint:
        raise _reused("This Idempotency-Key was used with another request; use a new key.")
    if record.status_code is None or record.response_body is None:
        raise Conflict(
            code="idempotency_in_flight",
            detail="A request with this Idempotency-Key is still being processed; retry shortly.",
        )
    return StoredResponse(record.status_code, dict(record.response_headers), record.response_body)


@dataclass(frozen=True)
class Claim:
    """This request holds its key: its response is stored with ``complete``."""

    record_id: uuid.UUID


@functools.cache
def _claim_statement(dialect: str) -> Any:
    """The claim, built once per dialect (its values are bound per request)."""
    table: Any = IdempotencyRecord.__table__
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table).values(
        id=bindparam("id"),
        api_key_id=bindparam("api_key_id"),
        idempotency_key=bindparam("idempotency_key"),
        request_fingerprint=bindparam("request_fingerprint"),
        status_code=None,
        response_headers=bindparam("response_headers", type_=table.c.response_headers.type),
        response_body=None,
        created_at=bindparam("created_at", type_=table.c.created_at.type),
    )
    taken_over = (
        "request_fingerprint",
        "status_code",
        "response_headers",
        "response_body",
        "created_at",
    )
    return insert.on_conflict_do_update(
        index_elements=[table.c.api_key_id, table.c.idempotency_key],
        set_={name: insert.excluded[name] for name in taken_over},
        where=table.c.created_at < bindparam("expired_before", type_=table.c.created_at.type),
    ).returning(table.c.id)


async def claim(
    ctx: ServiceContext, key: str, fingerprint: str, ttl_hours: int
) -> StoredResponse | Claim:
    """Either the stored response to replay, or this request's claim on the key.

    One statement claims the key: an insert that, when the key is taken, takes it over
    only if its record has expired. A concurrent request with the same key waits on the
    unique index until the first one commits (or rolls back), then finds its record and
    replays it."""
    if ctx.principal.key_id is None:
        raise InvalidInput(code="idempotency_unsupported", detail="No key to scope it to.")
    stmt = _claim_statement(ctx.session.get_bind().dialect.name)
    params = {
        "id": uuid.uuid4(),
        "api_key_id": ctx.principal.key_id,
        "idempotency_key": key,
        "request_fingerprint": fingerprint,
        "response_headers": {},
        "created_at": ctx.now,
        "expired_before": ctx.now - timedelta(hours=ttl_hours),
    }
    result = await ctx.session.execute(stmt, params)
    claimed: uuid.UUID | None = result.scalar()
    if claimed is not None:
        return Claim(claimed)
    existing = await _existing(ctx, key)
    if existing is None:  # its holder rolled back after we looked: try again shortly
        raise Conflict(
            code="idempotency_in_flight",
            detail="A request with this Idempotency-Key is still being processed.",
        )
    return _replay(existing, fingerprint)


async def complete(ctx: ServiceContext, claimed: Claim, response: StoredResponse) -> None:
    await ctx.session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == claimed.record_id)
        .execution_options(synchronize_session=False)
        .values(
            status_code=response.status_code,
            response_headers=response.headers,
            response_body=response.body,
        )
    )


_TAKEN_OVER = (
    "request_fingerprint",
    "status_code",
    "response_headers",
    "response_body",
    "created_at",
)


def claim_with_response(
    ctx: ServiceContext, key: str, fingerprint: str, ttl_hours: int, response: StoredResponse
) -> writes.Claim:
    """The claim of a write made in one statement (``db.writes``): the key and the
    response to replay are stored together, with the write or not at all. When the key
    is taken (and not expired) nothing is written: the caller replays with ``stored``."""
    if ctx.principal.key_id is None:
        raise InvalidInput(code="idempotency_unsupported", detail="No key to scope it to.")
    table: Table = IdempotencyRecord.__table__  # type: ignore[assignment]
    row = writes.new_row(
        table,
        {
            "api_key_id": ctx.principal.key_id,
            "idempotency_key": key,
            "request_fingerprint": fingerprint,
            "status_code": response.status_code,
            "response_headers": response.headers,
            "response_body": response.body,
            "created_at": ctx.now,
        },
    )
    return writes.Claim(
        table,
        row,
        conflict=("api_key_id", "idempotency_key"),
        takeover=_TAKEN_OVER,
        expired_column="created_at",
        expired_before=ctx.now - timedelta(hours=ttl_hours),
    )


_STORED = select(
    IdempotencyRecord.request_fingerprint,
    IdempotencyRecord.status_code,
    IdempotencyRecord.response_headers,
    IdempotencyRecord.response_body,
).where(
    IdempotencyRecord.api_key_id == bindparam("api_key_id"),
    IdempotencyRecord.idempotency_key == bindparam("idempotency_key"),
)


async def stored(ctx: ServiceContext, key: str, fingerprint: str) -> StoredResponse:
    """The response stored for a key that ``claim_with_response`` found taken."""
    assert ctx.reads is not None
    row = await ctx.reads.first(
        _STORED, {"api_key_id": ctx.principal.key_id, "idempotency_key": key}
    )
    if row is None:  # its holder's statement failed after ours looked: try again shortly
        raise Conflict(
            code="idempotency_in_flight",
            detail="A request with this Idempotency-Key is still being processed.",
        )
    return _replay(IdempotencyRecord(**row), fingerprint)
