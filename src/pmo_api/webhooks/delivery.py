"""Sending deliveries: claim what is due, send it, record what happened.

**Claiming** is one statement: the due deliveries (pending, their time come, their
subscription on) with no earlier delivery of the same record still pending for the
same subscription (so a record's events reach a receiver in order, however long one
of them is retried), each pushed ``lease`` into the future. On PostgreSQL the rows are
locked with ``SKIP LOCKED``: several workers claim disjoint batches and never send the
same attempt twice. A worker that dies holding a claim loses nothing: when the lease
lapses the delivery is due again and another worker sends it.

**Sending** checks the url again (``guard``: the name resolved now, and the request sent
to the address checked), signs the body (``signing``), follows no redirect, and waits
at most the timeout. Any 2xx is a success; 410 Gone turns the subscription off; any
other answer or failure is retried with exponential backoff and jitter until the
delivery's ``retry_until`` (3 days), when it is given up and its subscription marked
failing.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from pmo_api import telemetry
from pmo_api.webhooks import guard, signing
from pmo_api.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery

MAX_BACKOFF = timedelta(hours=6)
KEPT_ATTEMPTS = 50
"""The attempts a delivery shows (the latest)."""
USER_AGENT = "pmo-api-webhooks/1"


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    webhook_id: uuid.UUID
    body: str
    attempt_count: int
    attempts: list[dict[str, Any]]
    retry_until: datetime
    url: str
    secrets: tuple[str, ...]

    @property
    def message_id(self) -> str:
        """``webhook-id``: the delivery's, the same on every attempt and redelivery."""
        return f"msg_{self.id.hex}"


@dataclass(frozen=True)
class Attempt:
    outcome: str
    """succeeded, failed, gone (410), refused (the url's address is not allowed)."""
    status_code: int | None
    latency_ms: float
    error: str | None
    at: datetime

    def logged(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "outcome": self.outcome,
            "status_code": self.status_code,
            "latency_ms": round(self.latency_ms, 1),
            "error": self.error,
        }


async def claim(
    session: AsyncSession, now: datetime, batch: int, lease: timedelta
) -> list[Claimed]:
    """Claim up to ``batch`` due deliveries for ``lease`` (see the module's docstring)."""
    d = WebhookDelivery
    earlier = aliased(WebhookDelivery)
    due = (
        select(d.id)
        .join(Webhook, Webhook.id == d.webhook_id)
        .where(
            d.status == DeliveryStatus.PENDING,
            d.next_attempt_at <= now,
            Webhook.active.is_(True),
            Webhook.archived_at.is_(None),
            ~exists().where(
                earlier.webhook_id == d.webhook_id,
                earlier.entity_id == d.entity_id,
                earlier.status == DeliveryStatus.PENDING,
                earlier.seq < d.seq,
            ),
        )
        .order_by(d.next_attempt_at)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(of=d, skip_locked=True)
    claimed = (
        await session.execute(
            update(d)
            .where(d.id.in_(due))
            .values(next_attempt_at=now + lease)
            .returning(d.id, d.webhook_id, d.body, d.attempt_count, d.attempts, d.retry_until)
        )
    ).all()
    if not claimed:
        return []
    hooks = {
        hook.id: hook
        for hook in (
            await session.execute(
                select(
                    Webhook.id,
                    Webhook.url,
                    Webhook.secret,
                    Webhook.previous_secret,
                    Webhook.previous_secret_expires_at,
                ).where(Webhook.id.in_({row.webhook_id for row in claimed}))
            )
        ).all()
    }
    out: list[Claimed] = []
    for row in claimed:
        hook = hooks[row.webhook_id]
        secrets = [hook.secret]
        if hook.previous_secret and (
            hook.previous_secret_expires_at is not None and hook.previous_secret_expires_at > now
        ):
            secrets.append(hook.previous_secret)
        out.append(
            Claimed(
                id=row.id,
                webhook_id=row.webhook_id,
                body=row.body,
                attempt_count=row.attempt_count,
                attempts=list(row.attempts),
                retry_until=row.retry_until,
                url=hook.url,
                secrets=tuple(secrets),
            )
        )
    return out


async def send(client: httpx.AsyncClient, delivery: Claimed, now: datetime) -> Attempt:
    """One attempt: the url checked, the body signed and POSTed to the checked address."""
    started = time.perf_counter()
    try:
        target = await guard.resolve(delivery.url, guard.allowed_hosts())
    except guard.UnsafeUrl as refusal:
        return Attempt("refused", None, 0.0, str(refusal), now)
    body = delivery.body.encode()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        **signing.headers(delivery.message_id, int(now.timestamp()), body, delivery.secrets),
    }
    url = httpx.URL(target.url)
    default_port = 443 if url.scheme == "https" else 80
    headers["host"] = target.host if target.port == default_port else f"{target.host}:{target.port}"
    pinned = url.copy_with(host=target.address, port=target.port)
    extensions = {"sni_hostname": target.host} if url.scheme == "https" else {}
    try:
        response = await client.post(pinned, content=body, headers=headers, extensions=extensions)
    except httpx.HTTPError as error:
        latency = (time.perf_counter() - started) * 1000
        telemetry.WEBHOOK_SECONDS.observe(latency / 1000)
        return Attempt("failed", None, latency, f"{type(error).__name__}: {error}"[:500], now)
    latency = (time.perf_counter() - started) * 1000
    telemetry.WEBHOOK_SECONDS.observe(latency / 1000)
    status = response.status_code
    if 200 <= status < 300:
        return Attempt("succeeded", status, latency, None, now)
    if status == 410:
        return Attempt("gone", status, latency, "the receiver answered 410 Gone", now)
    reason = "a redirect (not followed)" if 300 <= status < 400 else f"status {status}"
    return Attempt("failed", status, latency, reason, now)


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """The wait after the ``attempts``-th failure: doubling from ``base_seconds``, at most
    six hours, with jitter (between 75 % and 125 % of it) so retries spread out."""
    wait = min(timedelta(seconds=base_seconds * 2 ** min(attempts - 1, 30)), MAX_BACKOFF)
    return wait * random.uniform(0.75, 1.25)


async def record(
    session: AsyncSession,
    results: Sequence[tuple[Claimed, Attempt]],
    now: datetime,
    retry_base_seconds: float,
) -> None:
    """Each attempt's outcome on its delivery (and on its subscription when it changes
    it), in the caller's transaction."""
    by_shape: dict[frozenset[str], list[dict[str, Any]]] = {}
    changed: dict[uuid.UUID, str] = {}
    for delivery, attempt in results:
        log = [*delivery.attempts, attempt.logged()][-KEPT_ATTEMPTS:]
        values: dict[str, Any] = {
            "id": delivery.id,
            "attempt_count": delivery.attempt_count + 1,
            "attempts": log,
            "response_status": attempt.status_code,
        }
        outcome = attempt.outcome
        if outcome == "succeeded":
            values.update(status=DeliveryStatus.SUCCEEDED, next_attempt_at=None, completed_at=now)
        elif outcome == "gone":
            values.update(status=DeliveryStatus.FAILED, next_attempt_at=None, completed_at=now)
        elif now >= delivery.retry_until:
            values.update(status=DeliveryStatus.FAILED, next_attempt_at=None, completed_at=now)
            outcome = "gave_up"
        else:
            values["next_attempt_at"] = now + backoff(
                delivery.attempt_count + 1, retry_base_seconds
            )
        telemetry.WEBHOOK_DELIVERIES.labels(outcome).inc()
        by_shape.setdefault(frozenset(values), []).append(values)
        # What the batch says of each subscription: gone beats gave up beats succeeded.
        rank = ("succeeded", "failed", "refused", "gave_up", "gone")
        if rank.index(outcome) >= rank.index(changed.get(delivery.webhook_id, "succeeded")):
            changed[delivery.webhook_id] = outcome
    for rows in by_shape.values():  # one executemany per shape of update
        await session.execute(update(WebhookDelivery), rows)
    for webhook_id, outcome in changed.items():
        hook = update(Webhook).where(Webhook.id == webhook_id)
        bumped = {"version": Webhook.version + 1, "updated_at": now}
        if outcome == "succeeded":
            await session.execute(
                hook.where(Webhook.failing_since.is_not(None)).values(failing_since=None, **bumped)
            )
        elif outcome == "gone":
            await session.execute(
                hook.values(
                    active=False,
                    disabled_reason="The receiver answered 410 Gone: turned off.",
                    **bumped,
                )
            )
        elif outcome == "gave_up":
            await session.execute(
                hook.where(Webhook.failing_since.is_(None)).values(failing_since=now, **bumped)
            )
