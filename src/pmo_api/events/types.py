"""Typed events: what happened, to which entity, and which fields changed how."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pmo_api.core.changes import changed_fields, jsonable


class EventType(enum.StrEnum):
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    PERSON_CREATED = "person.created"
    PERSON_UPDATED = "person.updated"
    PERSON_ARCHIVED = "person.archived"
    PORTFOLIO_CREATED = "portfolio.created"
    PORTFOLIO_UPDATED = "portfolio.updated"
    PORTFOLIO_ARCHIVED = "portfolio.archived"
    PROJECT_CREATED = "project.created"
    PROJECT_UPDATED = "project.updated"
    PROJECT_ARCHIVED = "project.archived"
    MILESTONE_CREATED = "milestone.created"
    MILESTONE_UPDATED = "milestone.updated"
    MILESTONE_ARCHIVED = "milestone.archived"
    DELIVERABLE_CREATED = "deliverable.created"
    DELIVERABLE_UPDATED = "deliverable.updated"
    DELIVERABLE_ARCHIVED = "deliverable.archived"
    BASELINE_CAPTURED = "baseline.captured"
    STATUS_REPORT_CREATED = "status_report.created"
    STATUS_REPORT_UPDATED = "status_report.updated"
    STATUS_REPORT_SUBMITTED = "status_report.submitted"
    STATUS_REPORT_ARCHIVED = "status_report.archived"
    RISK_RAISED = "risk.raised"
    RISK_UPDATED = "risk.updated"
    RISK_ARCHIVED = "risk.archived"
    ISSUE_RAISED = "issue.raised"
    ISSUE_UPDATED = "issue.updated"
    ISSUE_ARCHIVED = "issue.archived"
    CHANGE_PROPOSED = "change.proposed"
    CHANGE_UPDATED = "change.updated"
    CHANGE_APPROVED = "change.approved"
    CHANGE_REJECTED = "change.rejected"
    CHANGE_ARCHIVED = "change.archived"
    COST_RECORDED = "cost.recorded"
    COST_UPDATED = "cost.updated"
    COST_ARCHIVED = "cost.archived"
    ASSIGNMENT_CREATED = "assignment.created"
    ASSIGNMENT_UPDATED = "assignment.updated"
    ASSIGNMENT_ARCHIVED = "assignment.archived"

    @property
    def entity_type(self) -> str:
        return self.value.split(".", 1)[0]


@dataclass(frozen=True)
class Event:
    type: EventType
    entity_id: uuid.UUID
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def created(cls, type_: EventType, entity_id: uuid.UUID, after: Mapping[str, Any]) -> Event:
        return cls(type_, entity_id, changed_fields({}, {k: jsonable(v) for k, v in after.items()}))
