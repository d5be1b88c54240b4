"""The audit trail over GraphQL: read-only, newest first by default."""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.errors import parse_model
from pmo_api.api.graphql.inputs import provided
from pmo_api.api.graphql.relay import (
    After,
    Connection,
    First,
    Node,
    connection,
    list_params,
    to_global_id,
)
from pmo_api.core.pagination import DEFAULT_LIMIT
from pmo_api.events import models
from pmo_api.events.schemas import AuditEventFilter
from pmo_api.events.service import list_audit_events


@strawberry.type(description="One recorded change: who did what to which record, and when.")
class AuditEvent(Node):
    uuid: UUID = strawberry.field(description="The REST id.")
    occurred_at: datetime
    action: str = strawberry.field(description="The event type, e.g. project.updated.")
    entity_type: str
    entity_id: UUID = strawberry.field(description="The changed record's UUID (REST id).")
    actor_key_id: UUID | None
    actor_name: str
    actor_role: str
    request_id: str
    changes: JSON = strawberry.field(description="Changed fields: {field: {before, after}}.")

    @strawberry.field(description="The changed record, when it is a node the caller may see.")
    async def entity(self, info: GqlInfo) -> Node | None:
        return await info.context.loaders.entity(self.entity_type, self.entity_id)

    @classmethod
    def from_model(cls, event: models.AuditEvent) -> AuditEvent:
        return cls(
            id=to_global_id("AuditEvent", event.id),
            uuid=event.id,
            occurred_at=event.occurred_at,
            action=event.action,
            entity_type=event.entity_type,
            entity_id=event.entity_id,
            actor_key_id=event.actor_key_id,
            actor_name=event.actor_name,
            actor_role=event.actor_role,
            request_id=event.request_id,
            changes=JSON(dict(event.changes)),
        )


@strawberry.input(name="AuditEventFilter", description="Filters for `auditEvents`; all must match.")
class AuditEventFilterInput:
    entity_type: str | None = strawberry.field(
        default=strawberry.UNSET, description="person, portfolio, project, api_key..."
    )
    entity_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The record's global id or UUID."
    )
    actor_key_id: UUID | None = strawberry.UNSET
    action: str | None = strawberry.field(
        default=strawberry.UNSET, description="An event type, e.g. project.updated."
    )
    request_id: str | None = strawberry.UNSET
    occurred_from: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="At or after this instant."
    )
    occurred_to: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Before this instant."
    )


@strawberry.type
class AuditEventsQuery:
    @strawberry.field(
        description="The audit trail (append-only); sorted by occurredAt, newest first "
        'unless `sort: "occurredAt"`.'
    )
    async def audit_events(
        self,
        info: GqlInfo,
        first: First = DEFAULT_LIMIT,
        after: After = None,
        filter: AuditEventFilterInput | None = None,
        sort: str | None = None,
    ) -> Connection[AuditEvent]:
        params = list_params(first, after, sort)
        values = provided(filter, {"entity_id": None})
        filters = parse_model(AuditEventFilter, values, "filter")
        return await info.context.fetch(
            lambda ctx: list_audit_events(ctx, filters, params),
            lambda page: connection(page, AuditEvent.from_model),
        )
