"""Assumptions, declared once."""

from __future__ import annotations

import uuid
from datetime import date

from pmo_api.assumptions import service
from pmo_api.assumptions.models import Assumption, AssumptionStatus
from pmo_api.core.schemas import Day, Text
from pmo_api.records.declaration import (
    DESCRIPTION,
    PERSON,
    TITLE,
    Docs,
    Events,
    Field,
    Filter,
    RecordType,
    Sort,
)

ASSUMPTIONS = RecordType(
    name="assumption",
    model=Assumption,
    fields=(
        TITLE,
        DESCRIPTION,
        Field("status", AssumptionStatus, AssumptionStatus.OPEN),
        Field(
            "resolution",
            Text | None,
            None,
            "What validated or invalidated it; required when the status is either.",
        ),
        Field(
            "owner_id",
            uuid.UUID | None,
            None,
            "Who checks the assumption, if anyone.",
            refers_to=PERSON,
        ),
        Field("validate_by", Day | None, None, "When it should be validated by."),
    ),
    create_schema=service.RESOLUTION.schema(),
    filters=(
        Filter.one_of(Assumption.status, AssumptionStatus),
        Filter.equal(Assumption.owner_id, uuid.UUID),
    ),
    sorts=(Sort("validate_by", missing=date.max), "title", "created_at", "updated_at"),
    default_sort="validate_by",
    rules=service.AssumptionRules(),
    events=Events(created="recorded"),
    docs=Docs(
        summary="An assumption of a project: what its plan takes as true until checked.",
        listed="by the date to validate them by, undated last",
        create="Record an assumption on a project (pmo, admin; a manager: their projects).",
    ),
)
