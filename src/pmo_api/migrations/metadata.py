"""Every table, imported once so Alembic (env.py) and the tests see the whole schema: it
sits above the domains whose models it gathers, never imported by them. The tables of
the declared types come with their registration (``control.py``); the others are the
service's own bookkeeping (idempotency records, instance settings)."""

from __future__ import annotations

from typing import Any

from pmo_api.control import PROJECT_RECORDS, RESOURCES
from pmo_api.db.base import Base
from pmo_api.db.instance import InstanceSetting
from pmo_api.idempotency.models import IdempotencyRecord
from pmo_api.limits.models import RateLimitCounter
from pmo_api.metrics.models import ProjectSnapshot

metadata = Base.metadata

SEARCH_INDEXES = ("lessons_search",)
"""The full-text search structures each database keeps of its own, outside the models
(``lessons/search.py``): SQLite's FTS5 tables (and their shadow tables,
``lessons_search_data``...)."""
SEARCH_COLUMNS = {("lessons", "search_document"), ("lessons", "title_document")}
"""PostgreSQL's generated ``tsvector`` columns, and their indexes (``ix_<table>_<column>``)."""


def include_object(
    obj: Any, name: str | None, kind: str, reflected: bool, _compare_to: Any
) -> bool:
    """What Alembic compares with the models: all but the search structures above."""
    if kind == "table" and name is not None and name.startswith(SEARCH_INDEXES):
        return False
    if kind == "column" and (obj.table.name, name) in SEARCH_COLUMNS:
        return False
    if kind == "index" and name is not None:
        return not any(name == f"ix_{t}_{c}" for t, c in SEARCH_COLUMNS)
    return True


RESOURCE_MODELS = tuple(kind.model for kind in RESOURCES)
RECORD_MODELS = tuple(kind.model for kind in PROJECT_RECORDS)

__all__ = [
    "RECORD_MODELS",
    "RESOURCE_MODELS",
    "SEARCH_INDEXES",
    "IdempotencyRecord",
    "InstanceSetting",
    "ProjectSnapshot",
    "RateLimitCounter",
    "include_object",
    "metadata",
]
