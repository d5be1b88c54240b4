"""record(ctx, event): the one way a state change reaches the audit trail (and outbox)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, Table, select

from pmo_api.core.context import Principal, ServiceContext
from pmo_api.core.pagination import ListParams, Page
from pmo_api.db import writes
from pmo_api.db.reads import Row
from pmo_api.db.repository import build_page_request, keyset_page
from pmo_api.events.models import AuditEvent
from pmo_api.events.schemas import AuditEventFilter
from pmo_api.events.types import Event, EventType, RecordEvent


async def record(ctx: ServiceContext, event: Event) -> None:
    """Append one event in the caller's transaction: rolled back with it, never alone.
    In a staged unit of work (``db.writes``) it is written in the same statement as the
    change it describes."""
    values = {
        "occurred_at": ctx.now,
        "action": event.type.value,
        "entity_type": event.type.entity_type,
        "entity_id": event.entity_id,
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


_TABLE: Table = AuditEvent.__table__  # type: ignore[assignment]


async def create_recorded(
    ctx: ServiceContext,
    creates: writes.Creates,
    values: Mapping[str, Any],
    event: EventType | RecordEvent,
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
    await record(ctx, Event.created(event, row["id"], values))
    return row


SORTABLE = {"occurred_at": AuditEvent.occurred_at}


def visible_to(principal: Principal) -> Select[AuditEvent]:
    """The trail is readable by every role (viewers are executives and auditors): the
    list and the events read by id start from here, so they follow the same rule."""
    return select(AuditEvent)


async def get_audit_events(ctx: ServiceContext, ids: Sequence[uuid.UUID]) -> list[AuditEvent]:
    """Events by id (GraphQL ``node``), one statement, the trail's visibility."""
    if not ids:
        return []
    stmt = visible_to(ctx.principal).where(AuditEvent.id.in_(set(ids)))
    return list((await ctx.session.scalars(stmt)).all())


async def list_audit_events(
    ctx: ServiceContext, filters: AuditEventFilter, params: ListParams
) -> Page[AuditEvent]:
    page = build_page_request(
        params, columns=SORTABLE, default_sort="-occurred_at", filters=filters.model_dump()
    )
    stmt = visible_to(ctx.principal)
    if filters.entity_type:
        stmt = stmt.where(AuditEvent.entity_type == filters.entity_type)
    if filters.entity_id:
        stmt = stmt.where(AuditEvent.entity_id == filters.entity_id)
    if filters.actor_key_id:
        stmt = stmt.where(AuditEvent.actor_key_id == filters.actor_key_id)
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.request_id:
        stmt = stmt.where(AuditEvent.request_id == filters.request_id)
    if filters.occurred_from:
        stmt = stmt.where(AuditEvent.occurred_at >= filters.occurred_from)
    if filters.occurred_to:
        stmt = stmt.where(AuditEvent.occurred_at < filters.occurred_to)
    return await keyset_page(
        ctx.session, stmt, columns=SORTABLE, id_column=AuditEvent.id, request=page
    )
