"""Typed events: what happened, to which entity, and which fields changed how."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


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


def jsonable(value: Any) -> Any:
    """A JSON-safe, exact rendering of a field value for the audit trail."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def snapshot(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    return {name: jsonable(getattr(obj, name)) for name in fields}


def changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    return {
        name: {"before": before.get(name), "after": value}
        for name, value in after.items()
        if not same_json(before.get(name), value)
    }


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: unlike ``==``, ``true`` is not ``1`` and ``false`` not ``0``
    (at any depth), so a write that only swaps one for the other is not lost as a no-op."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@dataclass(frozen=True)
class Event:
    type: EventType
    entity_id: uuid.UUID
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def created(cls, type_: EventType, entity_id: uuid.UUID, after: Mapping[str, Any]) -> Event:
        return cls(type_, entity_id, changed_fields({}, {k: jsonable(v) for k, v in after.items()}))
