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
from sqlalchemy import BigInteger, Integer, String, Uuid, delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.db.base import UTCDateTime
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
BATCH = 500
"""The most events one fan-out takes."""
RETRY_WINDOW_HOURS = 72
"""How long a delivery is retried before it is given up (at least 3 days)."""

PROJECT_EVENTS = {"project", "compliance"}
"""Entity types whose entity is a project."""

CLAIM_POSTGRES = text(
    """
        WITH claimed AS (
            DELETE FROM outbox
            WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT :batch)
            RETURNING seq, event_id
        )
        SELECT c.seq, e.id, e.action, e.entity_type, e.entity_id, e.entity_version,
               e.occurred_at, p.portfolio_id AS project_portfolio_id
        FROM claimed AS c
        JOIN audit_events AS e ON e.id = c.event_id
        LEFT JOIN projects AS p
            ON e.entity_type IN ('project', 'compliance') AND p.id = e.entity_id
        ORDER BY c.seq
        """
).columns(
    seq=BigInteger(),
    id=Uuid(),
    action=String(),
    entity_type=String(),
    entity_id=Uuid(),
    entity_version=Integer(),
    occurred_at=UTCDateTime(),
    project_portfolio_id=Uuid(),
)
"""The oldest entries taken off the queue with their events (the one dispatcher holds
the lock; an entry committed meanwhile with a lower seq is not seen, so it stays)."""


@dataclass(frozen=True)
class Dispatched:
    """One event as dispatched: its place in the outbox and what the live hub shows of
    it (webhooks carry its changes besides, read only for the events some subscription
    takes)."""

    seq: int
    event: LiveEvent

    def body(self, changes: dict[str, Any]) -> bytes:
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
                    "changes": changes,
                },
            }
        )


async def dispatch_once(
    session: AsyncSession, now: datetime, batch: int = BATCH
) -> tuple[list[Dispatched], int]:
    """Fan out up to ``batch`` committed events, in the caller's transaction (it commits):
    the events dispatched (none when another dispatcher holds the lock) and the number
    of deliveries made of them."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        locked = await session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": DISPATCH_LOCK}
        )
        if not locked:
            return [], 0
    if postgres:
        # One statement: the entries taken off the queue with their events, and a
        # project's portfolio beside each project event.
        rows = (await session.execute(CLAIM_POSTGRES, {"batch": batch})).all()
    else:
        claim = (
            select(
                OutboxEntry.seq,
                AuditEvent.id,
                AuditEvent.action,
                AuditEvent.entity_type,
                AuditEvent.entity_id,
                AuditEvent.entity_version,
                AuditEvent.occurred_at,
            )
            .join(AuditEvent, AuditEvent.id == OutboxEntry.event_id)
            .order_by(OutboxEntry.seq)
            .limit(batch)
        )
        rows = (await session.execute(claim)).all()
        if rows:
            # By each seq read: an entry committed meanwhile with a lower seq stays.
            await session.execute(
                delete(OutboxEntry).where(OutboxEntry.seq.in_([r.seq for r in rows]))
            )
    if not rows:
        return [], 0
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
        )
        for row in rows
    ]
    deliveries = await _deliveries(session, events, now)
    if deliveries:
        await session.execute(insert(WebhookDelivery), deliveries)
    return events, len(deliveries)


async def _places(
    session: AsyncSession, rows: Sequence[Any]
) -> dict[uuid.UUID, tuple[uuid.UUID | None, uuid.UUID | None]]:
    """Each event's project and portfolio: the record's own, or its project's."""
    tables = {kind.name: kind.model.__table__ for kind in (*RESOURCE_TYPES, *RECORD_TYPES)}
    project_of: dict[uuid.UUID, uuid.UUID | None] = {}
    portfolio_of: dict[uuid.UUID, uuid.UUID | None] = {}
    by_type: dict[str, set[uuid.UUID]] = defaultdict(set)
    portfolio_of_project: dict[uuid.UUID, uuid.UUID] = {}
    for row in rows:
        if row.entity_type in PROJECT_EVENTS:
            project_of[row.entity_id] = row.entity_id
            known = getattr(row, "project_portfolio_id", None)  # the claim joined it
            if known is not None:
                portfolio_of_project[row.entity_id] = known
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
    projects = {p for p in project_of.values() if p is not None} - portfolio_of_project.keys()
    if projects:
        found = await session.execute(
            select(Project.id, Project.portfolio_id).where(Project.id.in_(projects))
        )
        portfolio_of_project.update({row.id: row.portfolio_id for row in found})
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
    owed: list[tuple[Dispatched, uuid.UUID]] = []
    for dispatched in events:
        event = dispatched.event
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
            owed.append((dispatched, hook.id))
    if not owed:
        return []
    wanted = {dispatched.event.id for dispatched, _ in owed}
    changes = {
        row.id: row.changes
        for row in await session.execute(
            select(AuditEvent.id, AuditEvent.changes).where(AuditEvent.id.in_(wanted))
        )
    }
    until = now + timedelta(hours=RETRY_WINDOW_HOURS)
    bodies: dict[uuid.UUID, str] = {}
    rows: list[dict[str, Any]] = []
    for dispatched, webhook_id in owed:
        event = dispatched.event
        body = bodies.get(event.id)
        if body is None:
            body = bodies[event.id] = dispatched.body(changes[event.id]).decode()
        rows.append(
            {
                "id": uuid.uuid4(),
                "webhook_id": webhook_id,
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
