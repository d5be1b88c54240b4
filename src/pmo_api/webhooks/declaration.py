"""Webhook subscriptions, declared once: where to send which events, for which
portfolio. Only admin keys see and manage them (they carry a signing secret, shown
once when the subscription is made and when it is rotated); the url is checked
against ``guard`` when written; event types are those the service records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field as Limits
from pydantic import Strict, StringConstraints

from pmo_api.auth.declaration import ADMINS
from pmo_api.core.context import Principal, ServiceContext
from pmo_api.core.errors import ErrorDetail, InvalidInput
from pmo_api.core.schemas import Instant, Text
from pmo_api.events.types import refuse_unknown_types
from pmo_api.portfolios.declaration import PORTFOLIO
from pmo_api.resources.declaration import (
    Docs,
    Events,
    ResourceRules,
    ResourceType,
    Under,
    Writers,
)
from pmo_api.resources.fields import Field, Filter, Listed, owned
from pmo_api.webhooks import guard
from pmo_api.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from pmo_api.webhooks.signing import new_secret

Url = Annotated[
    str,
    StringConstraints(
        min_length=8, max_length=2000, pattern=r"^[hH][tT][tT][pP][sS]?://[^\s\x00-\x1f\x7f]+$"
    ),
]
EventType = Annotated[
    str,
    StringConstraints(max_length=64, pattern=r"^(\*|[a-z_]+\.[a-z_]+)$"),
]
EventTypes = Annotated[
    list[EventType],
    Limits(
        min_length=1,
        max_length=100,
        description="The event types to send (project.updated, risk.raised...); * for all.",
    ),
]

ALL = "*"


class WebhookRules(ResourceRules[Webhook]):
    """Known event types only; a url the guard allows (resolved now, and again at each
    attempt); a new subscription gets its secret; turned on again, it starts afresh."""

    event_types: frozenset[str] = frozenset()
    """Every event type the service records (bound by ``control.py``)."""

    def checking(self, values: Mapping[str, Any]) -> None:
        sent = values.get("event_types")
        if sent is None:
            return
        refuse_unknown_types(sent, self.event_types | {ALL}, ("body", "event_types"))

    async def creating(self, ctx: ServiceContext, values: dict[str, Any]) -> Mapping[str, Any]:
        await _check_url(values["url"])
        values["event_types"] = sorted(set(values["event_types"]))
        secret = new_secret()
        return {"secret": secret}

    async def updating(self, ctx: ServiceContext, obj: Webhook, values: dict[str, Any]) -> None:
        if "url" in values:
            await _check_url(values["url"])
        if "event_types" in values:
            values["event_types"] = sorted(set(values["event_types"]))
        if values.get("active") is True and not obj.active:
            values["disabled_reason"] = None
            values["failing_since"] = None


async def _check_url(url: str) -> None:
    refusal: guard.UnsafeUrl | None = None
    try:
        await guard.resolve(url, guard.allowed_hosts())
    except guard.UnsafeUrl as refused:
        refusal = refused
    if refusal is not None:  # raised here, with no network error as its context
        raise InvalidInput(
            code="webhook_url_refused",
            detail=f"This url may not receive webhooks: {refusal}.",
            errors=[ErrorDetail(("body", "url"), str(refusal), "value_error")],
        )


WEBHOOKS = ResourceType(
    name="webhook",
    model=Webhook,
    fields=(
        Field("url", Url, description="Where deliveries are POSTed: http(s), a public address."),
        Field("description", Text | None, None),
        Field("event_types", EventTypes),
        Field(
            "portfolio_id",
            uuid.UUID | None,
            None,
            "Only events of this portfolio's projects (and its sub-portfolios'); null: all.",
            refers_to=PORTFOLIO,
        ),
        Field(
            "active",
            Annotated[bool, Strict()],
            True,
            "Off: nothing is sent; deliveries wait until it is on.",
        ),
        owned(
            "failing_since",
            datetime | None,
            "Set when a delivery was given up after 3 days of retries; cleared by a success.",
        ),
        owned(
            "disabled_reason",
            str | None,
            "Why the service turned it off (the receiver answered 410 Gone).",
        ),
        owned(
            "previous_secret_expires_at",
            datetime | None,
            "Until then the secret before the last rotation signs deliveries too.",
        ),
    ),
    shown_once=(Listed("secret", str, "The signing secret (whsec_...): shown once."),),
    filters=(
        Filter.equal(Webhook.active, bool),
        Filter.equal(Webhook.portfolio_id, uuid.UUID),
        Filter(
            "failing",
            bool,
            lambda value, _today: (
                Webhook.failing_since.is_not(None) if value else Webhook.failing_since.is_(None)
            ),
            "true: only subscriptions whose deliveries are failing.",
        ),
    ),
    sorts=("created_at", "updated_at", "url"),
    default_sort="created_at",
    readers=ADMINS,
    writers=ADMINS,
    rules=WebhookRules(),
    graphql=False,
    docs=Docs(
        summary="A webhook subscription: events sent, signed, to a receiver's url.",
        listed="Webhook subscriptions",
        list_route="List webhook subscriptions (never their secrets)",
        create_body="A new subscription: the url, the event types, optionally a portfolio.",
        archive_route="Delete a webhook subscription (its deliveries stop)",
    ),
)


def _nobody(_principal: Principal) -> bool:
    return False


WEBHOOK_DELIVERIES = ResourceType(
    name="webhook_delivery",
    model=WebhookDelivery,
    noun="webhook delivery",
    path="webhook-deliveries",
    fields=(
        Field(
            "webhook_id",
            uuid.UUID,
            description="The subscription it is owed to.",
            create=False,
            update=False,
            refers_to=WEBHOOKS.reference,
        ),
        owned("event_type", str, "The event type (webhook.ping for a test delivery)."),
        owned("event_id", uuid.UUID | None, "The event in the audit trail (null for a ping)."),
        owned("entity_id", uuid.UUID | None, "The record the event is about."),
        owned("status", DeliveryStatus, "pending (to send or being retried), succeeded, failed."),
        owned("attempt_count", int, "Attempts made so far."),
        owned(
            "attempts",
            list[dict[str, Any]],
            "Each attempt, oldest first: at, outcome (succeeded, failed, gone, refused), "
            "status_code, latency_ms, error.",
        ),
        owned("response_status", int | None, "The last attempt's HTTP status."),
        owned("next_attempt_at", datetime | None, "When it is (re)tried next, while pending."),
        owned("retry_until", datetime, "Retried until then (3 days), then given up."),
        owned("body", str, "The exact body sent (what the signature covers)."),
        owned("created_at", datetime),
        owned("completed_at", datetime | None),
    ),
    filters=(
        Filter.one_of(WebhookDelivery.status, DeliveryStatus),
        Filter.equal(WebhookDelivery.webhook_id, uuid.UUID),
        Filter.equal(
            WebhookDelivery.event_type, EventType, "An event type (webhook.ping for tests)."
        ),
        Filter.equal(WebhookDelivery.entity_id, uuid.UUID),
        Filter.at_least("created_from", WebhookDelivery.created_at, Instant, "At or after."),
    ),
    sorts=("created_at",),
    default_sort="-created_at",
    under=Under(WEBHOOKS, "webhook_id", "deliveries"),
    readers=ADMINS,
    writers=Writers(_nobody, ("forbidden", "Deliveries are made by the service.")),
    creatable=False,
    updatable=False,
    archivable=False,
    versioned=False,
    timestamps=False,
    events=Events(),
    graphql=False,
    docs=Docs(
        summary="One event (or ping) owed to one subscription, with its attempts.",
        listed="Webhook deliveries, newest first (kept 30 days)",
    ),
)
