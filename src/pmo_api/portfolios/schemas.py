from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import Field

from pmo_api.core.schemas import Input, Key, ListFilter, Money, Name, Patch, Read, Search, Text


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
    sort_fields: ClassVar[tuple[str, ...]] = ("key", "name", "created_at", "updated_at")

    q: Search | None = Field(default=None, description="Text search in key, name and description.")
    parent_id: uuid.UUID | None = None
    root: bool | None = Field(default=None, description="true: only top-level portfolios.")
    owner_id: uuid.UUID | None = None
