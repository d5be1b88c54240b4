"""record(ctx, event): the one way a state change reaches the audit trail (and outbox)."""

from __future__ import annotations

from sqlalchemy import select

from pmo_api.core.context import ServiceContext
from pmo_api.core.pagination import ListParams, Page
from pmo_api.db.repository import build_page_request, keyset_page
from pmo_api.events.models import AuditEvent
from pmo_api.events.schemas import AuditEventFilter
from pmo_api.events.types import Event


async def record(ctx: ServiceContext, event: Event) -> None:
    """Append one event in the caller's transaction: rolled back with it, never alone."""
    ctx.session.add(
        AuditEvent(
            occurred_at=ctx.now,
            action=event.type.value,
            entity_type=event.type.entity_type,
            entity_id=event.entity_id,
            actor_key_id=ctx.principal.key_id,
            actor_name=ctx.principal.name,
            actor_role=ctx.principal.role.value,
            request_id=ctx.request_id,
            changes=event.changes,
        )
    )


SORTABLE = {"occurred_at": AuditEvent.occurred_at}


async def list_audit_events(
    ctx: ServiceContext, filters: AuditEventFilter, params: ListParams
) -> Page[AuditEvent]:
    """The trail is readable by every role (viewers are executives and auditors)."""
    page = build_page_request(
        params, columns=SORTABLE, default_sort="-occurred_at", filters=filters.model_dump()
    )
    stmt = select(AuditEvent)
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
