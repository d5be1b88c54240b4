"""Policies, declared once: versioned standards holding text and machine-checked rules.

A policy is kept by key and revision. ``POST /standards/policies`` with a key makes a
new draft revision of it (1 for a new key); a draft changes freely (PATCH) and may be
discarded (DELETE); ``publish`` puts it in force (and retires the revision in force
before it), ``retire`` takes it out of force. A published or retired revision never
changes again: a change is a new revision. Compliance (``compliance.py``) evaluates the
rules of the revisions in force."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from pmo_api.core.access import is_staff
from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict
from pmo_api.core.schemas import Key, Name, Text
from pmo_api.db.records import apply_changes
from pmo_api.events.types import RecordEvent
from pmo_api.resources.declaration import (
    Docs,
    Events,
    ResourceAction,
    ResourceRules,
    ResourceType,
    Writers,
)
from pmo_api.resources.fields import Field, Filter, owned
from pmo_api.resources.service import save_changes
from pmo_api.standards.models import Policy, StandardStatus
from pmo_api.standards.rules import Rules, check_rules

STAFF = Writers(is_staff, ("role_forbidden", "Only pmo and admin keys write standards."))


def refuse_unless_draft(obj: Policy, doing: str) -> None:
    if obj.status != StandardStatus.DRAFT:
        raise Conflict(
            code="standard_not_draft",
            detail=(
                f"Revision {obj.revision} of {obj.key} is {obj.status.value}: only a draft "
                f"can be {doing}. Create a new revision to change it."
            ),
        )


class PolicyRules(ResourceRules[Policy]):
    async def creating(self, ctx: ServiceContext, values: dict[str, Any]) -> Mapping[str, Any]:
        check_rules(values["rules"])
        latest = await ctx.session.scalar(
            select(func.max(Policy.revision)).where(Policy.key == values["key"])
        )
        return {"revision": (latest or 0) + 1, "status": StandardStatus.DRAFT}

    def may_change(self, ctx: ServiceContext, obj: Policy) -> None:
        refuse_unless_draft(obj, "changed")

    def may_archive(self, ctx: ServiceContext, obj: Policy) -> None:
        refuse_unless_draft(obj, "discarded")

    async def updating(self, ctx: ServiceContext, obj: Policy, values: dict[str, Any]) -> None:
        if "rules" in values:
            check_rules(values["rules"])


async def publish(ctx: ServiceContext, obj: Policy, _: Any, event: RecordEvent) -> None:
    """In force from now; the revision in force before it is retired."""
    refuse_unless_draft(obj, "published")
    if obj.archived_at is not None:
        raise Conflict(code="policy_archived", detail="A discarded draft cannot be published.")
    in_force = (
        await ctx.session.scalars(
            select(Policy)
            .where(Policy.key == obj.key, Policy.status == StandardStatus.PUBLISHED)
            .with_for_update()
        )
    ).all()
    for older in in_force:
        retired = apply_changes(
            ctx, older, {"status": StandardStatus.RETIRED, "retired_at": ctx.now}
        )
        await save_changes(ctx, older, RecordEvent(event.entity_type, "retired"), retired)
    changes = apply_changes(
        ctx, obj, {"status": StandardStatus.PUBLISHED, "published_at": ctx.now}
    )
    await save_changes(ctx, obj, event, changes)


async def retire(ctx: ServiceContext, obj: Policy, _: Any, event: RecordEvent) -> None:
    """Out of force: its rules no longer count in compliance."""
    if obj.status != StandardStatus.PUBLISHED:
        raise Conflict(
            code="standard_not_published",
            detail=f"Revision {obj.revision} of {obj.key} is {obj.status.value}: only a "
            "published revision can be retired.",
        )
    changes = apply_changes(ctx, obj, {"status": StandardStatus.RETIRED, "retired_at": ctx.now})
    await save_changes(ctx, obj, event, changes)


POLICIES = ResourceType(
    name="policy",
    model=Policy,
    path="standards/policies",
    type_name="Policy",
    fields=(
        Field("key", Key, description="The policy's key; its revisions share it.", update=False),
        owned("revision", int, "The revision of the policy, 1 for the first."),
        Field("title", Name),
        Field("text", Text | None, None, "The policy's text, for people."),
        Field("rules", Rules, [], "Its machine-checked rules."),
        owned("status", StandardStatus, "draft, published (in force) or retired."),
        owned("published_at", datetime | None, "When it was put in force."),
        owned("retired_at", datetime | None, "When it was taken out of force."),
    ),
    filters=(
        Filter.search((Policy.key, Policy.title), "Text search in key and title."),
        Filter(
            "policy_key",
            Key,
            lambda value, _today: Policy.key == value,
            "Only the revisions of this policy (its key).",
        ),
        Filter.one_of(Policy.status, StandardStatus),
    ),
    sorts=("key", "title", "revision", "created_at", "updated_at"),
    default_sort="key",
    writers=STAFF,
    rules=PolicyRules(),
    events=Events(archived="discarded"),
    unique="key",
    actions=(
        ResourceAction(
            verb="publish",
            event="published",
            run=publish,
            summary="Publish a policy revision",
            description=(
                "Puts a draft in force; the revision of the same key in force before it "
                "is retired. A published revision never changes again (pmo, admin)."
            ),
            graphql_description="Put a draft policy revision in force (pmo, admin).",
        ),
        ResourceAction(
            verb="retire",
            event="retired",
            run=retire,
            summary="Retire a policy revision",
            description="Takes a published revision out of force (pmo, admin).",
            graphql_description="Take a policy revision out of force (pmo, admin).",
        ),
    ),
    docs=Docs(
        summary="A policy: text, and rules the service checks on every project.",
        listed="Policy revisions, filtered",
        create="Write a new draft revision of a policy (pmo, admin).",
        update="Change a draft revision (pmo, admin).",
        archive="Discard a draft revision (pmo, admin).",
        archive_route="Discard a draft policy revision",
    ),
)
