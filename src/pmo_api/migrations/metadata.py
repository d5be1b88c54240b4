"""Every table, imported once so Alembic (env.py) and the tests see the whole schema: it
sits above the domains whose models it gathers, never imported by them. The tables of
the declared types come with their registration (``control.py``); the others are the
service's own bookkeeping (idempotency records, instance settings)."""

from __future__ import annotations

from pmo_api.control import PROJECT_RECORDS, RESOURCES
from pmo_api.db.base import Base
from pmo_api.db.instance import InstanceSetting
from pmo_api.idempotency.models import IdempotencyRecord

metadata = Base.metadata

RESOURCE_MODELS = tuple(kind.model for kind in RESOURCES)
RECORD_MODELS = tuple(kind.model for kind in PROJECT_RECORDS)

__all__ = [
    "RECORD_MODELS",
    "RESOURCE_MODELS",
    "IdempotencyRecord",
    "InstanceSetting",
    "metadata",
]
