"""The RAID log's record types, declared once: risks, issues, change requests."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pmo_api.core.schemas import Day, SignedMoney, Text
from pmo_api.raid import access, service
from pmo_api.raid.models import (
    ChangeRequest,
    ChangeStatus,
    IssueSeverity,
    IssueStatus,
    ProjectIssue,
    Risk,
    RiskResponse,
    RiskStatus,
)
from pmo_api.raid.schemas import ChangeDecision, Factor, ImpactDays, Score
from pmo_api.records.declaration import (
    DESCRIPTION,
    PERSON,
    TITLE,
    Action,
    Docs,
    Events,
    Field,
    Filter,
    RecordType,
    owned,
)

RISKS = RecordType(
    name="risk",
    model=Risk,
    fields=(
        TITLE,
        DESCRIPTION,
        Field("probability", Factor),
        Field("impact", Factor),
        owned("score", int, "probability x impact (1-25)."),
        Field(
            "owner_id", uuid.UUID | None, None, "Who owns the risk, if anyone.", refers_to=PERSON
        ),
        Field("mitigation", Text | None, None),
        Field("response", RiskResponse | None, None),
        Field("status", RiskStatus, RiskStatus.OPEN),
        Field(
            "last_reviewed_on",
            Day | None,
            None,
            "When the risk was last reviewed; not in the future.",
        ),
    ),
    filters=(
        Filter.one_of(Risk.status, RiskStatus),
        Filter.at_least("min_score", Risk.score, Score, "Only risks scoring at least this."),
        Filter.equal(Risk.owner_id, uuid.UUID),
    ),
    sorts=("score", "created_at", "updated_at", "title"),
    default_sort="-score",
    rules=service.RiskRules(),
    events=Events(created="raised"),
    nested_filters=("status",),
    docs=Docs(
        summary="A risk of a project: score = probability x impact.",
        listed="highest score first",
        create="Raise a risk on a project (pmo, admin; a manager: own).",
        update="Change the fields sent; a new probability or impact recomputes the score.",
    ),
)

ISSUES = RecordType(
    name="issue",
    model=ProjectIssue,
    type_name="ProjectIssue",
    fields=(
        TITLE,
        DESCRIPTION,
        Field("severity", IssueSeverity, IssueSeverity.MEDIUM),
        Field(
            "owner_id", uuid.UUID | None, None, "Who owns the issue, if anyone.", refers_to=PERSON
        ),
        Field("status", IssueStatus, IssueStatus.OPEN),
        Field(
            "resolution",
            Text | None,
            None,
            "Required when the status is resolved or closed.",
        ),
        owned("resolved_at", datetime | None, "Set when the issue is resolved or closed."),
    ),
    create_schema=service.RESOLUTION.schema(),
    filters=(
        Filter.one_of(ProjectIssue.status, IssueStatus),
        Filter.one_of(ProjectIssue.severity, IssueSeverity),
        Filter.equal(ProjectIssue.owner_id, uuid.UUID),
    ),
    sorts=("created_at", "updated_at", "title"),
    default_sort="-created_at",
    rules=service.IssueRules(),
    events=Events(created="raised"),
    docs=Docs(
        summary="An issue of a project: something going wrong now.",
        listed="newest first",
        create="Raise an issue on a project (pmo, admin; a manager: own).",
        update="Change the fields sent; resolving needs a resolution.",
    ),
)

CHANGES = RecordType(
    name="change",
    model=ChangeRequest,
    noun="change request",
    type_name="ChangeRequest",
    create_verb="propose",
    fields=(
        TITLE,
        DESCRIPTION,
        Field(
            "budget_impact",
            SignedMoney,
            Decimal("0.00"),
            "Added to the planned budget on approval (negative: a saving).",
        ),
        Field("schedule_impact_days", ImpactDays, 0),
        owned("status", ChangeStatus),
        owned("decided_by", str | None, "The API key that approved or rejected it."),
        owned(
            "decided_by_person_id",
            uuid.UUID | None,
            "The person the deciding key acts for, if any.",
            refers_to=PERSON,
        ),
        owned("decided_at", datetime | None),
        owned("decision_note", str | None),
    ),
    filters=(Filter.one_of(ChangeRequest.status, ChangeStatus),),
    sorts=("created_at", "updated_at", "title", "budget_impact", "schedule_impact_days"),
    default_sort="-created_at",
    rules=service.ChangeRules(),
    events=Events(created="proposed"),
    actions=(
        Action(
            verb="approve",
            event="approved",
            run=service.approve,
            input=ChangeDecision,
            allowed=access.can_decide_change,
            refusal=(
                "change_decision_forbidden",
                "Only pmo and admin keys approve or reject change requests.",
            ),
            lock_project=True,
            summary="Approve a change request and apply it to the project",
            description="pmo and admin only. The project's planned budget moves by "
            "`budget_impact` and its planned end by `schedule_impact_days`; the planned "
            "start stays. Refused, nothing written: 422 `planned_budget_negative` / "
            "`planned_budget_too_large` when the budget would leave 0 to "
            "999,999,999,999.99, 422 `dates_out_of_order` / `planned_end_out_of_range` "
            "when the planned end would fall before the planned start or outside the "
            "calendar, 409 `no_planned_end` when `schedule_impact_days` is not 0 and the "
            "project has no planned end (set one first).",
            graphql_description="Approve a proposed change (pmo, admin) and apply it to "
            "the project's planned budget and planned end. A ConflictError `no_planned_end` "
            "when scheduleImpactDays is not 0 and the project has no planned end.",
        ),
        Action(
            verb="reject",
            event="rejected",
            run=service.reject,
            input=ChangeDecision,
            allowed=access.can_decide_change,
            refusal=(
                "change_decision_forbidden",
                "Only pmo and admin keys approve or reject change requests.",
            ),
            lock_project=True,
            summary="Reject a change request",
            description="pmo and admin only; the project is left as it is.",
            graphql_description="Reject a proposed change (pmo, admin).",
        ),
    ),
    docs=Docs(
        summary="A change of a project's budget or schedule; approving it applies it "
        "(planned budget += budgetImpact, planned end += scheduleImpactDays).",
        listed="newest first",
        create="Propose a change (pmo, admin; a manager: own project).",
        update="Change a proposed change request's fields.",
    ),
)
