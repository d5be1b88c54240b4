"""The use cases of a subscription beyond its fields: a test delivery (ping),
redelivery, and rotating the signing secret."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import update

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict
from pmo_api.db.records import apply_changes, check_version
from pmo_api.events.service import save_changes
from pmo_api.resources import service as resources
from pmo_api.webhooks.declaration import WEBHOOK_DELIVERIES, WEBHOOKS
from pmo_api.webhooks.dispatch import RETRY_WINDOW_HOURS
from pmo_api.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from pmo_api.webhooks.signing import new_secret

PING = "webhook.ping"


def _retry_until(now: datetime) -> datetime:
    return now + timedelta(hours=RETRY_WINDOW_HOURS)


async def ping(ctx: ServiceContext, ref: Any) -> WebhookDelivery:
    """A test delivery (``webhook.ping``) to the subscription, sent by the worker like
    any other (even while the subscription is off: it tests the receiver)."""
    hook: Webhook = await resources.get(ctx, WEBHOOKS, ref)
    resources.refuse_unless_writer(ctx, WEBHOOKS)
    if hook.archived_at is not None:
        raise Conflict(code="webhook_archived", detail="A deleted subscription is not pinged.")
    now = ctx.now
    body = orjson.dumps(
        {
            "type": PING,
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "data": {"id": str(hook.id), "entity_type": "webhook", "version": hook.version},
        }
    ).decode()
    delivery = WebhookDelivery(
        id=uuid.uuid4(),
        webhook_id=hook.id,
        event_id=None,
        event_type=PING,
        entity_id=None,
        seq=0,
        body=body,
        status=DeliveryStatus.PENDING,
        attempt_count=0,
        attempts=[],
        next_attempt_at=now,
        retry_until=_retry_until(now),
        created_at=now,
    )
    ctx.session.add(delivery)
    await ctx.session.flush()
    return delivery


async def redeliver(ctx: ServiceContext, ref: Any) -> WebhookDelivery:
    """Send a delivery again, under the same ``webhook-id``, with 3 more days of retries."""
    delivery: WebhookDelivery = await resources.get(ctx, WEBHOOK_DELIVERIES, ref)
    resources.refuse_unless_writer(ctx, WEBHOOKS)
    if delivery.status is DeliveryStatus.PENDING:
        raise Conflict(
            code="delivery_pending",
            detail="This delivery is still pending: the worker will send it.",
        )
    now = ctx.now
    changes = apply_changes(
        ctx,
        delivery,
        {
            "status": DeliveryStatus.PENDING,
            "next_attempt_at": now,
            "retry_until": _retry_until(now),
            "completed_at": None,
        },
    )
    await save_changes(ctx, delivery, WEBHOOK_DELIVERIES.event("redelivered"), changes)
    return delivery


async def redeliver_failed(ctx: ServiceContext, ref: Any, since: datetime) -> int:
    """Send again every failed delivery of the subscription made at or after ``since``;
    how many."""
    hook: Webhook = await resources.get(ctx, WEBHOOKS, ref)
    resources.refuse_unless_writer(ctx, WEBHOOKS)
    now = ctx.now
    result = await ctx.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.webhook_id == hook.id,
            WebhookDelivery.status == DeliveryStatus.FAILED,
            WebhookDelivery.created_at >= since,
        )
        .values(
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            retry_until=_retry_until(now),
            completed_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        await save_changes(
            ctx,
            hook,
            WEBHOOKS.event("redelivered"),
            {
                "redelivered": {"before": None, "after": count},
                "since": {"before": None, "after": since.isoformat()},
            },
        )
    return count


async def rotate_secret(
    ctx: ServiceContext, ref: Any, overlap: timedelta, expected_version: int | None
) -> tuple[Webhook, str]:
    """A new signing secret; the one it replaces keeps signing (beside it) for
    ``overlap``, so receivers can switch without losing a delivery."""
    hook: Webhook = await resources.get(ctx, WEBHOOKS, ref)
    resources.refuse_unless_writer(ctx, WEBHOOKS)
    check_version(WEBHOOKS.name, hook, expected_version)
    if hook.archived_at is not None:
        raise Conflict(code="webhook_archived", detail="A deleted subscription has no secret.")
    secret = new_secret()
    hook.previous_secret, hook.secret = hook.secret, secret
    changes = apply_changes(
        ctx, hook, {"previous_secret_expires_at": ctx.now + overlap if overlap else None}
    )
    # The trail says the secret changed, never what it is.
    changes["secret"] = {"before": "(previous)", "after": "(rotated)"}
    hook.updated_at = ctx.now
    await save_changes(ctx, hook, WEBHOOKS.event("secret_rotated"), changes)
    return hook, secret
