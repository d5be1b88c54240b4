"""Every declared type, one line each: the top-level resources (``RESOURCES``) and
the record types a project keeps (``PROJECT_RECORDS``).

Each is declared once in its package (``<package>/declaration.py``, see
``resources/declaration.py`` and ``records/declaration.py``); registering it here
gives it its REST routes, its GraphQL type, queries and mutations (a project record
also its ``Project`` connection), and its table in the migrations' metadata. The order
is the contract's: the GraphQL fields follow it.

A filter a resource declares but another domain computes (``Filter.elsewhere``) is
bound here, where both are known.
"""

from __future__ import annotations

from typing import Any

from pmo_api.alignment.declaration import ALIGNMENTS
from pmo_api.assumptions.declaration import ASSUMPTIONS
from pmo_api.audits.declaration import AUDITS, FINDINGS
from pmo_api.auth.declaration import API_KEYS
from pmo_api.finance.declaration import COSTS
from pmo_api.lessons.declaration import LESSONS
from pmo_api.lifecycle.declaration import GATE_REVIEWS, TRANSITIONS
from pmo_api.listings.projects import open_risk_count
from pmo_api.metrics.service import snapshot_project
from pmo_api.objectives.declaration import OBJECTIVES
from pmo_api.people.declaration import PEOPLE
from pmo_api.people.models import Person
from pmo_api.portfolios.declaration import PORTFOLIOS
from pmo_api.projects.declaration import PROJECTS
from pmo_api.raid.declaration import CHANGES, ISSUES, RISKS
from pmo_api.records.declaration import RecordType
from pmo_api.reporting import service as reporting
from pmo_api.reporting.declaration import STATUS_REPORTS
from pmo_api.resources.declaration import ResourceType
from pmo_api.schedule.declaration import BASELINES, DELIVERABLES, MILESTONES
from pmo_api.staffing.declaration import ASSIGNMENTS
from pmo_api.staffing.repository import over_allocated
from pmo_api.standards.compliance import (
    failing_condition,
    prepare_compliance,
    prepare_failing_rule,
)
from pmo_api.standards.declaration import METHODOLOGIES, POLICIES, TEMPLATES
from pmo_api.standards.instantiation import ProjectTemplates
from pmo_api.standards.watch import FAILED, PASSED
from pmo_api.trail.declaration import AUDIT_EVENTS
from pmo_api.training.declaration import CERTIFICATIONS, COURSES, ENROLLMENTS
from pmo_api.webhooks.declaration import WEBHOOK_DELIVERIES, WEBHOOKS

RESOURCES: tuple[ResourceType[Any], ...] = (
    API_KEYS,
    PEOPLE,
    PORTFOLIOS,
    PROJECTS,
    AUDIT_EVENTS,
    OBJECTIVES,
    LESSONS,
    POLICIES,
    METHODOLOGIES,
    TEMPLATES,
    AUDITS,
    FINDINGS,
    COURSES,
    ENROLLMENTS,
    CERTIFICATIONS,
    WEBHOOKS,
    WEBHOOK_DELIVERIES,
)

PROJECT_RECORDS: tuple[RecordType[Any], ...] = (
    RISKS,
    ISSUES,
    CHANGES,
    MILESTONES,
    DELIVERABLES,
    BASELINES,
    STATUS_REPORTS,
    COSTS,
    ASSIGNMENTS,
    ASSUMPTIONS,
    TRANSITIONS,
    GATE_REVIEWS,
    ALIGNMENTS,
)

PEOPLE.bind_filter(
    "over_allocated",
    lambda value, _today: over_allocated(Person.id) if value else ~over_allocated(Person.id),
)
PROJECTS.bind_listed("open_risk_count", open_risk_count())
PROJECTS.bind_filter("compliance", failing_condition, prepare_compliance)
PROJECTS.bind_filter("failing_rule", failing_condition, prepare_failing_rule)
PROJECTS.rules.bind_templates(ProjectTemplates())  # type: ignore[attr-defined]
reporting.ON_SUBMITTED.append(snapshot_project)

EVENT_TYPES: frozenset[str] = frozenset(
    {
        *(event.value for kind in (*RESOURCES, *PROJECT_RECORDS) for event in kind.all_events),
        *(event.value for event in (FAILED, PASSED, PROJECTS.event("phase_changed"))),
        *(WEBHOOKS.event(verb).value for verb in ("secret_rotated", "redelivered")),
        WEBHOOK_DELIVERIES.event("redelivered").value,
    }
)
"""Every event type the service records: what a webhook may subscribe to."""
WEBHOOKS.rules.event_types = EVENT_TYPES  # type: ignore[attr-defined]
