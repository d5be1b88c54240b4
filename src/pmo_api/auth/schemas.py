from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pmo_api.core.context import Role
from pmo_api.core.schemas import TEXT_PATTERN, Input, Instant

KeyName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=TEXT_PATTERN)]
"""What a key is for ("nightly export"): at most 100 characters, as its column holds."""


class ApiKeyCreate(Input):
    # Stated for clients: a manager key names the person it acts for (the service
    # refuses it otherwise: 422 manager_needs_person).
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "if": {"properties": {"role": {"const": Role.MANAGER.value}}, "required": ["role"]},
            "then": {
                "properties": {"person_id": {"type": "string", "format": "uuid"}},
                "required": ["person_id"],
            },
        },
    )

    name: KeyName
    role: Role
    person_id: uuid.UUID | None = Field(
        default=None, description="The person the key acts for; required for managers."
    )


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    role: Role
    prefix: str = Field(description="The first characters of the secret, to recognise it.")
    person_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    secret: str = Field(description="Shown once; only a hash is kept.")


class ApiKeyFilter(Input):
    """A revoked key is never deleted: the list shows it (with revoked_at) unless
    ``revoked=false``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    sort_fields: ClassVar[tuple[str, ...]] = ("created_at", "updated_at", "name")

    role: Role | None = None
    person_id: uuid.UUID | None = None
    revoked: bool | None = Field(
        default=None, description="true: only revoked keys; false: only keys still in use."
    )
    updated_since: Instant | None = Field(
        default=None, description="Only keys created or revoked at or after this instant."
    )
