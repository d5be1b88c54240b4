"""The audit trail, declared once: append-only, readable by every role (viewers are
executives and auditors), newest first by default."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import StringConstraints

from pmo_api.core.context import Principal
from pmo_api.core.schemas import TEXT_PATTERN, Instant
from pmo_api.events.models import AuditEvent
from pmo_api.resources.declaration import Docs, ResourceType, Writers
from pmo_api.resources.fields import Filter, owned


def _text(length: int) -> Any:
    return Annotated[str, StringConstraints(max_length=length, pattern=TEXT_PATTERN)]


def _nobody(_principal: Principal) -> bool:
    return False


AUDIT_EVENTS = ResourceType(
    name="audit_event",
    model=AuditEvent,
    fields=(
        owned("occurred_at", datetime),
        owned("action", str, "The event type, e.g. project.updated."),
        owned("entity_type", str),
        owned("entity_id", uuid.UUID, "The changed record's UUID (REST id)."),
        owned("actor_key_id", uuid.UUID | None),
        owned("actor_name", str),
        owned("actor_role", str),
        owned("request_id", str),
        owned("changes", dict[str, Any], "Changed fields: {field: {before, after}}."),
    ),
    filters=(
        Filter.equal(AuditEvent.entity_type, _text(32), "person, portfolio, project, api_key..."),
        Filter.equal(
            AuditEvent.entity_id, uuid.UUID, "The changed record's id (GraphQL: or global id)."
        ),
        Filter.equal(AuditEvent.actor_key_id, uuid.UUID),
        Filter.equal(AuditEvent.action, _text(64), "An event type, e.g. project.updated."),
        Filter.equal(AuditEvent.request_id, _text(128)),
        Filter.at_least(
            "occurred_from", AuditEvent.occurred_at, Instant, "At or after this instant."
        ),
        Filter(
            "occurred_to",
            Instant,
            lambda value, _today: AuditEvent.occurred_at < value,
            "Before this instant.",
            bound=True,
        ),
    ),
    sorts=("occurred_at",),
    default_sort="-occurred_at",
    writers=Writers(_nobody, ("forbidden", "The audit trail is append-only.")),
    creatable=False,
    updatable=False,
    archivable=False,
    versioned=False,
    timestamps=False,
    docs=Docs(
        summary="One recorded change: who did what to which record, and when.",
        listed="The audit trail (append-only)",
        list_route="The audit trail (append-only)",
    ),
)
