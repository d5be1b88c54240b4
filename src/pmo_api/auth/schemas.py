from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from pmo_api.core.context import Role
from pmo_api.core.schemas import Input, Name


class ApiKeyCreate(Input):
    name: Name
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
