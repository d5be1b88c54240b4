"""record(ctx, event): the one way a state change reaches the audit trail (and outbox)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table

from pmo_api.core.context import ServiceContext
from pmo_api.db import writes
from pmo_api.db.reads import Row
from pmo_api.events.models import AuditEvent
from pmo_api.events.types import Event, RecordEvent

RECORDED = "pmo_events_recorded"
"""Set in a session's ``info`` when it recorded an event (the webhook worker wakes when
such a session commits)."""


async def record(ctx: ServiceContext, event: Event) -> None:
    """Append one event in the caller's transaction: rolled back with it, never alone.
    In a staged unit of work (``db.writes``) it is written in the same statement as the
    change it describes."""
    values = {
        "occurred_at": ctx.now,
        "action": event.type.value,
        "entity_type": event.type.entity_type,
        "entity_id": event.entity_id,
        "entity_version": event.version,
        "actor_key_id": ctx.principal.key_id,
        "actor_name": ctx.principal.name,
        "actor_role": ctx.principal.role.value,
        "request_id": ctx.request_id,
        "changes": event.changes,
    }
    if ctx.staged is not None:
        await writes.insert(ctx, writes.Insert(_TABLE, writes.new_row(_TABLE, values)))
        return
    ctx.session.add(AuditEvent(**values))
    ctx.session.info[RECORDED] = True


_TABLE: Table = AuditEvent.__table__  # type: ignore[assignment]


async def save_changes(
    ctx: ServiceContext, obj: Any, event: RecordEvent, changes: Mapping[str, Any]
) -> None:
    """Flush the changes applied to a record (``db.records.apply_changes``) and record
    their event; nothing when nothing really changed. For rules and actions."""
    if changes:
        await ctx.session.flush()
        await record(ctx, Event(event, obj.id, dict(changes), getattr(obj, "version", None)))


async def create_recorded(
    ctx: ServiceContext,
    creates: writes.Creates,
    values: Mapping[str, Any],
    event: RecordEvent,
    **server_owned: Any,
) -> Row:
    """A new record from its validated ``values`` (and the values the server owns
    beside them), stamped with the unit of work's time, with its ``<entity>.created``
    event: both written in one statement where the unit of work stages its writes
    (``db.writes``). Returns the record as a row, its representation."""
    row = await writes.insert(
        ctx,
        creates.insert({**values, **server_owned, "created_at": ctx.now, "updated_at": ctx.now}),
    )
    await record(ctx, Event.created(event, row["id"], values, row.get("version")))
    return row
