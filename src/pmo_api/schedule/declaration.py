"""A project's schedule, declared once: milestones, deliverables, baselines."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ColumnElement, not_

from pmo_api.core.schemas import Day, Label, Money
from pmo_api.records.declaration import (
    DESCRIPTION,
    NAME,
    PERSON,
    Derived,
    Docs,
    Events,
    Field,
    Filter,
    Range,
    RecordType,
    owned,
)
from pmo_api.schedule import service
from pmo_api.schedule.models import (
    Baseline,
    Deliverable,
    DeliverableStatus,
    Milestone,
    MilestoneStatus,
    overdue_clause,
)
from pmo_api.schedule.schemas import BaselineMilestone


def _overdue(wanted: bool, today: date) -> ColumnElement[bool]:
    overdue = overdue_clause(today)
    return overdue if wanted else not_(overdue)


MILESTONES = RecordType(
    name="milestone",
    model=Milestone,
    fields=(
        NAME,
        DESCRIPTION,
        Field("due_date", Day),
        Field(
            "done_date",
            Day | None,
            None,
            "Only with status done; today when status done omits it.",
        ),
        Field("status", MilestoneStatus, MilestoneStatus.PLANNED),
    ),
    # Stated for clients: only a done milestone has a done date (the rules refuse one on
    # any other status: 422 done_date_not_done).
    create_schema={
        "if": {
            "properties": {"status": {"const": MilestoneStatus.DONE.value}},
            "required": ["status"],
        },
        "else": {"properties": {"done_date": {"type": "null"}}},
    },
    derived=(
        Derived(
            "overdue",
            bool,
            overdue_clause,
            "Derived: planned or in progress, due before today, not archived.",
        ),
    ),
    filters=(
        Filter.one_of(Milestone.status, MilestoneStatus),
        Filter(
            "overdue",
            bool,
            _overdue,
            "true: only overdue milestones; false: only the others.",
        ),
        Range(
            Filter.at_least("due_from", Milestone.due_date, Day, "Due on or after this date."),
            Filter.at_most("due_to", Milestone.due_date, Day, "Due on or before this date."),
        ),
    ),
    sorts=("due_date", "name", "status", "created_at", "updated_at"),
    default_sort="due_date",
    rules=service.MilestoneRules(),
    nested_filters=("overdue",),
    docs=Docs(
        summary="A dated point of a project's plan.",
        listed="by due date",
        create="Add a milestone (pmo, admin; a manager: their projects).",
    ),
)

DELIVERABLES = RecordType(
    name="deliverable",
    model=Deliverable,
    fields=(
        NAME,
        DESCRIPTION,
        Field("phase", Label | None, None),
        Field("due_date", Day),
        Field("status", DeliverableStatus, DeliverableStatus.PLANNED),
        owned("accepted_by", str | None, "The API key that accepted it (set on accept)."),
        owned(
            "accepted_by_person_id",
            uuid.UUID | None,
            "The person the accepting key acts for, if any.",
            refers_to=PERSON,
        ),
        owned("accepted_at", datetime | None),
    ),
    filters=(
        Filter.one_of(Deliverable.status, DeliverableStatus),
        Filter.equal(Deliverable.phase, Label),
    ),
    sorts=("due_date", "name", "status", "created_at", "updated_at"),
    default_sort="due_date",
    rules=service.DeliverableRules(),
    docs=Docs(
        summary="A product of a project's work, submitted for acceptance.",
        listed="by due date",
        create="Add a deliverable (pmo, admin; a manager: their projects).",
        update="Change the fields sent of a deliverable; status accepted records who "
        "accepted it and when.",
    ),
)

BASELINES = RecordType(
    name="baseline",
    model=Baseline,
    fields=(
        NAME,
        DESCRIPTION,
        owned("planned_start", Day | None),
        owned("planned_end", Day | None),
        owned("planned_budget", Money),
        owned(
            "milestones",
            list[BaselineMilestone],
            "The project's non-archived milestones when captured.",
            graphql=False,
        ),
        owned("captured_by", str, "The API key that captured it."),
        owned(
            "captured_by_person_id",
            uuid.UUID | None,
            "The person the capturing key acts for, if any.",
            refers_to=PERSON,
        ),
    ),
    sorts=("created_at", "name", "updated_at"),
    default_sort="-created_at",
    rules=service.BaselineRules(),
    events=Events(created="captured"),
    updatable=False,
    archivable=False,
    create_verb="capture",
    docs=Docs(
        summary="An immutable capture of a project's plan: dates, budget, milestones.",
        listed="newest first",
        create="Capture the project's current plan as a named, immutable baseline; it "
        "becomes the project's current baseline.",
    ),
)
