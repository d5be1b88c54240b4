"""Status reports, declared once: a project's status for one period."""

from __future__ import annotations

import uuid
from datetime import datetime

from pmo_api.core.schemas import Day, Money, SignedMoney, Text
from pmo_api.projects.models import Health
from pmo_api.records.declaration import (
    PERSON,
    Action,
    Docs,
    Field,
    Filter,
    Range,
    RecordType,
    owned,
)
from pmo_api.reporting import service
from pmo_api.reporting.models import ReportState, StatusReport

FROZEN = "The project's, frozen at submission."

STATUS_REPORTS = RecordType(
    name="status_report",
    model=StatusReport,
    fields=(
        Field("period_start", Day),
        Field(
            "period_end", Day, description="On or after period_start (else 422 dates_out_of_order)."
        ),
        Field("overall_health", Health),
        Field("schedule_health", Health, Health.GREEN),
        Field("budget_health", Health, Health.GREEN),
        Field("scope_health", Health, Health.GREEN),
        Field("resources_health", Health, Health.GREEN),
        Field("summary", Text | None, None),
        Field("accomplishments", Text | None, None),
        Field("next_steps", Text | None, None),
        owned("state", ReportState),
        owned("submitted_by", str | None, "The API key's name that submitted it."),
        owned(
            "submitted_by_person_id",
            uuid.UUID | None,
            "The person the submitting key acts for, if any.",
            refers_to=PERSON,
        ),
        owned("submitted_at", datetime | None),
        owned("percent_complete", int | None, FROZEN),
        owned("actual_cost", SignedMoney | None, FROZEN),
        owned("planned_budget", Money | None, FROZEN),
        owned("open_risks", int | None, "Open risks at submission."),
        owned("overdue_milestones", int | None, "Overdue milestones at submission."),
    ),
    in_order=(("period_start", "period_end"),),
    filters=(
        Filter.one_of(StatusReport.state, ReportState),
        Range(
            Filter.at_least(
                "period_from",
                StatusReport.period_end,
                Day,
                "Only reports whose period ends on or after this date.",
            ),
            Filter.at_most(
                "period_to",
                StatusReport.period_start,
                Day,
                "Only reports whose period starts on or before this date.",
            ),
        ),
        Filter.one_of(StatusReport.overall_health, Health),
    ),
    sorts=("period_end", "created_at", "updated_at", "submitted_at"),
    default_sort="-period_end",
    rules=service.StatusReportRules(),
    actions=(
        Action(
            verb="submit",
            event="submitted",
            run=service.submit,
            lock_project=True,
            summary="Submit a status report",
            description="Freezes the report with the project's figures of now. The latest "
            "submitted report (by period end) sets the project's health; an older period's "
            "does not. A report is submitted once: again is a 409 (replayed with the same "
            "Idempotency-Key).",
            graphql_description="Submit a draft: freeze it with the project's figures; the "
            "latest report (by period end) sets the project's health.",
        ),
    ),
    list_query=True,
    docs=Docs(
        summary="A project's status for one period; frozen, with the project's figures, "
        "when submitted. The latest submitted report sets the project's health.",
        listed="latest period first",
        create="Draft a status report (pmo, admin; a manager: their own).",
        update="Change a draft's fields sent; a submitted one is frozen.",
        archive="Archive a draft; a submitted report is kept as it is.",
        create_body="A new draft. The figures (percent complete, costs, risks, milestones) "
        "are not sent: the service freezes the project's own when the report is submitted.",
        update_body="Changes to a draft; a submitted report is immutable.",
    ),
)
