from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from pydantic import ConfigDict, Field

from pmo_api.core.schemas import TEXT_PATTERN, Input, Instant, Read


class AuditEventFilter(Input):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sort_fields: ClassVar[tuple[str, ...]] = ("occurred_at",)

    entity_type: str | None = Field(default=None, max_length=32, pattern=TEXT_PATTERN)
    entity_id: uuid.UUID | None = None
    actor_key_id: uuid.UUID | None = None
    action: str | None = Field(default=None, max_length=64, pattern=TEXT_PATTERN)
    request_id: str | None = Field(default=None, max_length=128, pattern=TEXT_PATTERN)
    occurred_from: Instant | None = None
    occurred_to: Instant | None = None


class AuditEventRead(Read):
    id: uuid.UUID
    occurred_at: datetime
    action: str
    entity_type: str
    entity_id: uuid.UUID
    actor_key_id: uuid.UUID | None
    actor_name: str
    actor_role: str
    request_id: str
    changes: dict[str, Any] = Field(description="Changed fields: {field: {before, after}}.")
