from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from pmo_api.core.schemas import Input, Key, ListFilter, Money, Name, Patch, Read, Text


class PortfolioCreate(Input):
    key: Key
    name: Name
    description: Text | None = None
    owner_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = Field(default=None, description="The enclosing portfolio.")
    budget_cap: Money | None = None


class PortfolioUpdate(Patch):
    non_nullable: ClassVar[frozenset[str]] = frozenset({"key", "name"})

    key: Key | None = None
    name: Name | None = None
    description: Text | None = None
    owner_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    budget_cap: Money | None = None


class PortfolioRead(Read):
    id: uuid.UUID
    key: str
    name: str
    description: str | None
    owner_id: uuid.UUID | None
    parent_id: uuid.UUID | None
    budget_cap: Money | None
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class PortfolioFilter(ListFilter):
    q: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="Text search in key, name and description."
    )
    parent_id: uuid.UUID | None = None
    root: bool | None = Field(default=None, description="true: only top-level portfolios.")
    owner_id: uuid.UUID | None = None
