"""What every standard shares (policies today; methodologies and templates are kept the
same way): versions by key and revision, and their life ``draft -> published ->
retired``.

``POST`` with a key makes a new draft revision of it (1 for a new key); a draft changes
freely and may be discarded; ``publish`` puts it in force and retires the revision in
force before it; ``retire`` takes it out of force. A published or retired revision
never changes again: a change is a new revision."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from pmo_api.core.access import is_staff
from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict
from pmo_api.core.schemas import Key
from pmo_api.db.records import apply_changes
from pmo_api.events.service import save_changes
from pmo_api.events.types import RecordEvent
from pmo_api.resources.declaration import (
    Docs,
    ResourceAction,
    ResourceRules,
    ResourceType,
    Writers,
)
from pmo_api.resources.fields import Field, Filter, owned
from pmo_api.standards.models import StandardStatus

STAFF = Writers(is_staff, ("role_forbidden", "Only pmo and admin keys write standards."))
"""Who writes standards (everyone with a key reads them)."""

Validate = Callable[[Mapping[str, Any]], None]
"""A standard's own check of the values written (a policy's rules): raises the 422."""


def refuse_unless_draft(obj: Any, doing: str) -> None:
    if obj.status != StandardStatus.DRAFT:
        raise Conflict(
            code="standard_not_draft",
            detail=(
                f"Revision {obj.revision} of {obj.key} is {obj.status.value}: only a draft "
                f"can be {doing}. Create a new revision to change it."
            ),
        )


class VersionedRules(ResourceRules[Any]):
    """A standard's rules: the next revision on create, drafts alone change, and the
    standard's own check of what is written (``validate``)."""

    def __init__(self, model: type[Any], validate: Validate | None = None) -> None:
        self.model = model
        self.validate = validate

    def checking(self, values: Mapping[str, Any]) -> None:
        if self.validate is not None:
            self.validate(values)

    async def creating(self, ctx: ServiceContext, values: dict[str, Any]) -> Mapping[str, Any]:
        latest = await ctx.session.scalar(
            select(func.max(self.model.revision)).where(self.model.key == values["key"])
        )
        return {"revision": (latest or 0) + 1, "status": StandardStatus.DRAFT}

    def may_change(self, ctx: ServiceContext, obj: Any) -> None:
        refuse_unless_draft(obj, "changed")

    def may_archive(self, ctx: ServiceContext, obj: Any) -> None:
        refuse_unless_draft(obj, "discarded")


def life_cycle(model: type[Any], noun: str) -> tuple[ResourceAction, ResourceAction]:
    """The ``publish`` and ``retire`` actions of a standard's revisions."""

    async def publish(ctx: ServiceContext, obj: Any, _: Any, event: RecordEvent) -> None:
        refuse_unless_draft(obj, "published")
        if obj.archived_at is not None:
            raise Conflict(
                code="standard_discarded", detail="A discarded draft cannot be published."
            )
        in_force = (
            await ctx.session.scalars(
                select(model)
                .where(model.key == obj.key, model.status == StandardStatus.PUBLISHED)
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

    async def retire(ctx: ServiceContext, obj: Any, _: Any, event: RecordEvent) -> None:
        if obj.status != StandardStatus.PUBLISHED:
            raise Conflict(
                code="standard_not_published",
                detail=f"Revision {obj.revision} of {obj.key} is {obj.status.value}: only a "
                "published revision can be retired.",
            )
        changes = apply_changes(ctx, obj, {"status": StandardStatus.RETIRED, "retired_at": ctx.now})
        await save_changes(ctx, obj, event, changes)

    return (
        ResourceAction(
            verb="publish",
            event="published",
            run=publish,
            summary=f"Publish a {noun} revision",
            description=(
                f"Puts a draft in force; the revision of the same {noun} in force before it "
                "is retired. A published revision never changes again (pmo, admin)."
            ),
            graphql_description=f"Put a draft {noun} revision in force (pmo, admin).",
        ),
        ResourceAction(
            verb="retire",
            event="retired",
            run=retire,
            summary=f"Retire a {noun} revision",
            description="Takes a published revision out of force (pmo, admin).",
            graphql_description=f"Take a {noun} revision out of force (pmo, admin).",
        ),
    )


def standard(
    *,
    name: str,
    model: type[Any],
    collection: str,
    type_name: str,
    title: str,
    fields: tuple[Field, ...],
    summary: str,
    validate: Validate | None = None,
) -> ResourceType[Any]:
    """A kind of standard, declared with what all of them share: its key and revision,
    its life (status, published_at, retired_at, the ``publish`` and ``retire`` actions),
    search in its key and ``title`` field, a filter by key, staff writers, and the docs of
    a revision. ``fields`` are its own, between its revision and its status."""
    column = getattr(model, title)
    return ResourceType(
        name=name,
        model=model,
        path=f"standards/{collection}",
        type_name=type_name,
        fields=(
            Field(
                "key", Key, description=f"The {name}'s key; its revisions share it.", update=False
            ),
            owned("revision", int, f"The revision of the {name}, 1 for the first."),
            *fields,
            owned("status", StandardStatus, "draft, published (in force) or retired."),
            owned("published_at", datetime | None, "When it was put in force."),
            owned("retired_at", datetime | None, "When it was taken out of force."),
        ),
        filters=(
            Filter.search((model.key, column), f"Text search in key and {title}."),
            Filter(
                f"{name}_key",
                Key,
                lambda value, _today: model.key == value,
                f"Only the revisions of this {name} (its key).",
            ),
            Filter.one_of(model.status, StandardStatus),
        ),
        sorts=("key", title, "revision", "created_at", "updated_at"),
        default_sort="key",
        writers=STAFF,
        rules=VersionedRules(model, validate),
        unique="key",
        actions=life_cycle(model, name),
        docs=Docs(
            summary=summary,
            listed=f"{name.title()} revisions, filtered",
            create=f"Write a new draft revision of a {name} (pmo, admin).",
            update="Change a draft revision (pmo, admin).",
            archive="Discard a draft revision (pmo, admin).",
            archive_route=f"Discard a draft {name} revision",
        ),
    )
