"""Idempotent POSTs: the first response is stored in the same transaction as the write.

A retry with the same key and request replays it; the same key with another
request is refused. Two requests racing with one key cannot both write: the
second one's insert waits on the unique index until the first commits, then
replays what the first stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict, ErrorDetail, InvalidInput
from pmo_api.db.transaction import savepoint
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


async def claim(
    ctx: ServiceContext, key: str, fingerprint: str, ttl_hours: int
) -> StoredResponse | IdempotencyRecord:
    """Either the stored response to replay, or a fresh claim to complete with ``complete``."""
    if ctx.principal.key_id is None:
        raise InvalidInput(code="idempotency_unsupported", detail="No key to scope it to.")
    existing = await _existing(ctx, key)
    if existing is not None:
        if existing.created_at >= ctx.now - timedelta(hours=ttl_hours):
            return _replay(existing, fingerprint)
        await ctx.session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.id == existing.id)
        )
    claim_row = IdempotencyRecord(
        api_key_id=ctx.principal.key_id,
        idempotency_key=key,
        request_fingerprint=fingerprint,
        response_headers={},
        created_at=ctx.now,
    )
    try:
        async with savepoint(ctx.session):
            ctx.session.add(claim_row)
            await ctx.session.flush()
    except IntegrityError:
        # Another request with this key committed first (we waited on its row lock).
        winner = await _existing(ctx, key)
        if winner is None:
            raise Conflict(
                code="idempotency_in_flight",
                detail="A request with this Idempotency-Key is still being processed.",
            ) from None
        return _replay(winner, fingerprint)
    return claim_row


async def complete(
    ctx: ServiceContext, claim_row: IdempotencyRecord, response: StoredResponse
) -> None:
    claim_row.status_code = response.status_code
    claim_row.response_headers = response.headers
    claim_row.response_body = response.body
    await ctx.session.flush()
