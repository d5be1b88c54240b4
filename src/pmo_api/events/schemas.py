from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pmo_api.core.schemas import Instant, Read


class AuditEventFilter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    entity_type: str | None = Field(default=None, max_length=32)
    entity_id: uuid.UUID | None = None
    actor_key_id: uuid.UUID | None = None
    action: str | None = Field(default=None, max_length=64)
    request_id: str | None = Field(default=None, max_length=128)
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
