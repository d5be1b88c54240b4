"""A webhook subscription's routes beyond its fields (``webhooks/service.py``): a test
delivery, redelivery (one, or every failed one since a time), rotating the secret; and
the event types a subscription may name."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.crud import ExpectedVersion
from pmo_api.api.rest.deps import Caller, Ctx
from pmo_api.api.rest.docs import problems
from pmo_api.api.rest.lists import UuidRef, ref_or_422
from pmo_api.control import EVENT_TYPES
from pmo_api.core.schemas import Instant
from pmo_api.webhooks import service as webhooks
from pmo_api.webhooks.declaration import WEBHOOK_DELIVERIES, WEBHOOKS

router = APIRouter(tags=["webhooks"])


class EventTypes(BaseModel):
    items: list[str] = Field(description="Every event type, alphabetically.")


class Redeliver(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: Instant = Field(description="Failed deliveries made at or after this instant.")


class Redelivered(BaseModel):
    redelivered: int = Field(description="How many failed deliveries are sent again.")


class Rotate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_hours: int = Field(
        default=24,
        ge=0,
        le=168,
        description="How long the secret replaced keeps signing beside the new one (0: not).",
    )


@router.get(
    "/event-types",
    response_model=EventTypes,
    responses=problems(),
    summary="The event types webhooks may subscribe to",
    name="list_event_types",
)
async def list_event_types(request: Request, _: Caller) -> Response:
    return present.document(request, {"items": sorted(EVENT_TYPES)})


@router.post(
    "/webhooks/{id}/ping",
    status_code=202,
    response_model=WEBHOOK_DELIVERIES.read,
    responses=problems(403, 404, 409),
    summary="Send a test delivery (webhook.ping)",
    name="ping_webhook",
)
async def ping_webhook(request: Request, ctx: Ctx, id: UuidRef) -> Response:
    """Queues a ``webhook.ping`` delivery to the subscription's url; the worker sends
    it like any other, and its outcome shows in the deliveries."""
    delivery = await webhooks.ping(ctx, ref_or_422(id, keyed=False))
    return _accepted(WEBHOOK_DELIVERIES.read.model_validate(delivery))


@router.post(
    "/webhooks/{id}/redeliver",
    status_code=202,
    response_model=Redelivered,
    responses=problems(403, 404),
    summary="Send again every failed delivery since a time",
    name="redeliver_webhook",
)
async def redeliver_failed(request: Request, ctx: Ctx, id: UuidRef, body: Redeliver) -> Response:
    count = await webhooks.redeliver_failed(ctx, ref_or_422(id, keyed=False), body.since)
    return _accepted(Redelivered(redelivered=count))


@router.post(
    "/webhook-deliveries/{id}/redeliver",
    status_code=202,
    response_model=WEBHOOK_DELIVERIES.read,
    responses=problems(403, 404, 409),
    summary="Send a delivery again (the same webhook-id)",
    name="redeliver_webhook_delivery",
)
async def redeliver(request: Request, ctx: Ctx, id: UuidRef) -> Response:
    """A delivery that succeeded or failed is sent again under the same ``webhook-id``
    (receivers that deduplicate by it see a repeat), with another 3 days of retries;
    409 ``delivery_pending`` while it is still pending."""
    delivery = await webhooks.redeliver(ctx, ref_or_422(id, keyed=False))
    return _accepted(WEBHOOK_DELIVERIES.read.model_validate(delivery))


@router.post(
    "/webhooks/{id}/rotate-secret",
    response_model=WEBHOOKS.created,
    responses=problems(403, 404, 409, 412),
    summary="Rotate a subscription's signing secret",
    name="rotate_webhook_secret",
)
async def rotate_secret(
    request: Request,
    ctx: Ctx,
    id: UuidRef,
    version: ExpectedVersion,
    body: Rotate | None = None,
) -> Response:
    """A new secret, shown once in the answer; the one it replaces keeps signing beside
    it (two signatures in ``webhook-signature``) for ``overlap_hours``, so receivers
    switch without losing a delivery."""
    overlap = timedelta(hours=(body or Rotate()).overlap_hours)
    hook, secret = await webhooks.rotate_secret(ctx, ref_or_422(id, keyed=False), overlap, version)
    shown = WEBHOOKS.read.model_validate(hook).model_dump()
    return present.resource(request, WEBHOOKS.created, {**shown, "secret": secret})


def _accepted(shown: BaseModel) -> Response:
    """202: queued; the worker sends it."""
    return Response(content=present.dump(shown), status_code=202, media_type=present.JSON)
