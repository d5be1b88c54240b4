"""Every table, imported once so Alembic (env.py) and the tests see the whole schema: it
sits above the domains whose models it gathers, never imported by them."""

from __future__ import annotations

from pmo_api.auth.models import ApiKey
from pmo_api.db.base import Base
from pmo_api.db.instance import InstanceSetting
from pmo_api.events.models import AuditEvent
from pmo_api.finance.models import CostEntry
from pmo_api.idempotency.models import IdempotencyRecord
from pmo_api.people.models import Person
from pmo_api.portfolios.models import Portfolio
from pmo_api.projects.models import Project
from pmo_api.raid.models import ChangeRequest, ProjectIssue, Risk
from pmo_api.reporting.models import StatusReport
from pmo_api.schedule.models import Baseline, Deliverable, Milestone
from pmo_api.staffing.models import Assignment

metadata = Base.metadata

__all__ = [
    "ApiKey",
    "Assignment",
    "AuditEvent",
    "Baseline",
    "ChangeRequest",
    "CostEntry",
    "Deliverable",
    "IdempotencyRecord",
    "InstanceSetting",
    "Milestone",
    "Person",
    "Portfolio",
    "Project",
    "ProjectIssue",
    "Risk",
    "StatusReport",
    "metadata",
]
