"""The dispatcher: committed events, from the outbox to the deliveries they owe.

One transaction claims the oldest outbox entries, makes a delivery for each
subscription an event matches (its type, its portfolio or one above it), and deletes
the entries: the fan-out lands whole or not at all, so a dispatcher killed halfway
leaves the entries for the next. One dispatcher works at a time (a transaction-scoped
advisory lock on PostgreSQL; SQLite has one writer), so deliveries are made in the
outbox's order, the order the worker then sends each record's events in.

After the commit the events are handed to the live hub (GraphQL subscriptions), when
the process has one.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.events.live import LiveEvent
from pmo_api.events.models import AuditEvent, OutboxEntry
from pmo_api.portfolios.models import Portfolio
from pmo_api.projects.models import Project
from pmo_api.records.declaration import DECLARED as RECORD_TYPES
from pmo_api.resources.declaration import DECLARED as RESOURCE_TYPES
from pmo_api.webhooks.declaration import ALL
from pmo_api.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery

DISPATCH_LOCK = 7_351_962_014
"""The PostgreSQL advisory lock one dispatcher holds while it fans out."""
RETRY_WINDOW_HOURS = 72
"""How long a delivery is retried before it is given up (at least 3 days)."""

PROJECT_EVENTS = {"project", "compliance"}
"""Entity types whose entity is a project."""


@dataclass(frozen=True)
class Dispatched:
    """One event as dispatched: its place in the outbox, what the live hub shows of it,
    and the changes webhooks carry besides."""

    seq: int
    event: LiveEvent
    changes: dict[str, Any]

    def body(self) -> bytes:
        """The payload: ``{type, timestamp, data}``, data naming the record and version."""
        e = self.event
        return orjson.dumps(
            {
                "type": e.type,
                "timestamp": e.occurred_at.isoformat().replace("+00:00", "Z"),
                "data": {
                    "id": str(e.entity_id),
                    "entity_type": e.entity_type,
                    "version": e.version,
                    "event_id": str(e.id),
                    "project_id": str(e.project_id) if e.project_id else None,
                    "portfolio_id": str(e.portfolio_id) if e.portfolio_id else None,
                    "changes": self.changes,
                },
            }
        )


async def dispatch_once(session: AsyncSession, now: datetime, batch: int = 500) -> list[Dispatched]:
    """Fan out up to ``batch`` committed events, in the caller's transaction (it commits);
    the events dispatched, none when another dispatcher holds the lock."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        locked = await session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": DISPATCH_LOCK}
        )
        if not locked:
            return []
    claim = (
        select(
            OutboxEntry.seq,
            AuditEvent.id,
            AuditEvent.action,
            AuditEvent.entity_type,
            AuditEvent.entity_id,
            AuditEvent.entity_version,
            AuditEvent.occurred_at,
            AuditEvent.changes,
        )
        .join(AuditEvent, AuditEvent.id == OutboxEntry.event_id)
        .order_by(OutboxEntry.seq)
        .limit(batch)
    )
    rows = (await session.execute(claim)).all()
    if not rows:
        return []
    places = await _places(session, rows)
    events = [
        Dispatched(
            row.seq,
            LiveEvent(
                id=row.id,
                type=row.action,
                entity_type=row.entity_type,
                entity_id=row.entity_id,
                project_id=places[row.id][0],
                portfolio_id=places[row.id][1],
                occurred_at=row.occurred_at,
                version=row.entity_version,
            ),
            row.changes,
        )
        for row in rows
    ]
    deliveries = await _deliveries(session, events, now)
    if deliveries:
        await session.execute(insert(WebhookDelivery), deliveries)
    # By each seq read: an entry committed meanwhile with a lower seq is not taken.
    await session.execute(delete(OutboxEntry).where(OutboxEntry.seq.in_([r.seq for r in rows])))
    return events


async def _places(
    session: AsyncSession, rows: Sequence[Any]
) -> dict[uuid.UUID, tuple[uuid.UUID | None, uuid.UUID | None]]:
    """Each event's project and portfolio: the record's own, or its project's."""
    tables = {kind.name: kind.model.__table__ for kind in (*RESOURCE_TYPES, *RECORD_TYPES)}
    project_of: dict[uuid.UUID, uuid.UUID | None] = {}
    portfolio_of: dict[uuid.UUID, uuid.UUID | None] = {}
    by_type: dict[str, set[uuid.UUID]] = defaultdict(set)
    for row in rows:
        if row.entity_type in PROJECT_EVENTS:
            project_of[row.entity_id] = row.entity_id
        elif row.entity_type == "portfolio":
            portfolio_of[row.entity_id] = row.entity_id
        elif row.entity_type in tables and "project_id" in tables[row.entity_type].c:
            by_type[row.entity_type].add(row.entity_id)
    for entity_type, ids in by_type.items():
        table = tables[entity_type]
        found = await session.execute(
            select(table.c.id, table.c.project_id).where(table.c.id.in_(ids))
        )
        project_of.update({entity_id: project_id for entity_id, project_id in found.all()})
    projects = {p for p in project_of.values() if p is not None}
    portfolio_of_project: dict[uuid.UUID, uuid.UUID] = {}
    if projects:
        found = await session.execute(
            select(Project.id, Project.portfolio_id).where(Project.id.in_(projects))
        )
        portfolio_of_project = {row.id: row.portfolio_id for row in found}
    places: dict[uuid.UUID, tuple[uuid.UUID | None, uuid.UUID | None]] = {}
    for row in rows:
        project = project_of.get(row.entity_id)
        portfolio = portfolio_of.get(row.entity_id) or (
            portfolio_of_project.get(project) if project is not None else None
        )
        places[row.id] = (project, portfolio)
    return places


async def _deliveries(
    session: AsyncSession, events: Sequence[Dispatched], now: datetime
) -> list[dict[str, Any]]:
    """The delivery rows the events owe the live subscriptions."""
    hooks = (
        await session.execute(
            select(Webhook.id, Webhook.event_types, Webhook.portfolio_id, Webhook.created_at).where(
                Webhook.archived_at.is_(None)
            )
        )
    ).all()
    if not hooks:
        return []
    above: Mapping[uuid.UUID, set[uuid.UUID]] = {}
    if any(hook.portfolio_id is not None for hook in hooks):
        above = await _ancestry(session)
    until = now + timedelta(hours=RETRY_WINDOW_HOURS)
    rows: list[dict[str, Any]] = []
    for dispatched in events:
        event = dispatched.event
        body: str | None = None
        for hook in hooks:
            if hook.created_at >= event.occurred_at:
                continue  # a subscription gets the events after it was made, not its own
            if ALL not in hook.event_types and event.type not in hook.event_types:
                continue
            if hook.portfolio_id is not None and (
                event.portfolio_id is None
                or hook.portfolio_id not in above.get(event.portfolio_id, {event.portfolio_id})
            ):
                continue
            if body is None:
                body = dispatched.body().decode()
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "webhook_id": hook.id,
                    "event_id": event.id,
                    "event_type": event.type,
                    "entity_id": event.entity_id,
                    "seq": dispatched.seq,
                    "body": body,
                    "status": DeliveryStatus.PENDING,
                    "attempt_count": 0,
                    "attempts": [],
                    "next_attempt_at": now,
                    "retry_until": until,
                    "created_at": now,
                }
            )
    return rows


async def _ancestry(session: AsyncSession) -> dict[uuid.UUID, set[uuid.UUID]]:
    """Each portfolio with itself and every portfolio above it."""
    parents = {
        row.id: row.parent_id
        for row in await session.execute(select(Portfolio.id, Portfolio.parent_id))
    }
    found: dict[uuid.UUID, set[uuid.UUID]] = {}
    for start in parents:
        chain: set[uuid.UUID] = set()
        node: uuid.UUID | None = start
        while node is not None and node not in chain:
            chain.add(node)
            node = parents.get(node)
        found[start] = chain
    return found
