"""Every table, imported once so Alembic (env.py) and the tests see the whole schema: it
sits above the domains whose models it gathers, never imported by them. The tables of
the project record types come with their registration (``control.py``)."""

from __future__ import annotations

from pmo_api.auth.models import ApiKey
from pmo_api.control import PROJECT_RECORDS
from pmo_api.db.base import Base
from pmo_api.db.instance import InstanceSetting
from pmo_api.events.models import AuditEvent
from pmo_api.idempotency.models import IdempotencyRecord
from pmo_api.people.models import Person
from pmo_api.portfolios.models import Portfolio
from pmo_api.projects.models import Project

metadata = Base.metadata

RECORD_MODELS = tuple(kind.model for kind in PROJECT_RECORDS)

__all__ = [
    "RECORD_MODELS",
    "ApiKey",
    "AuditEvent",
    "IdempotencyRecord",
    "InstanceSetting",
    "Person",
    "Portfolio",
    "Project",
    "metadata",
]
