"""Audits and their findings, declared once (``/api/v1/audits``, ``/api/v1/findings``;
an audit's own under ``/api/v1/audits/{id}/findings``). pmo and admin audit; the
audited project's manager answers the findings on their project; viewers read."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pydantic import Field as Limits
from sqlalchemy import ColumnElement, and_, not_, select

from pmo_api.audits import service
from pmo_api.audits.checklist import Answer, Answers, ChecklistItem, Completion
from pmo_api.audits.models import (
    OPEN_STATUSES,
    Audit,
    AuditStatus,
    AuditType,
    Finding,
    FindingStatus,
)
from pmo_api.core.access import is_staff
from pmo_api.core.context import Role, ServiceContext
from pmo_api.core.errors import Forbidden
from pmo_api.core.schemas import Day, Input, Key, Name, Text
from pmo_api.people.declaration import PERSON, acted_by, acting
from pmo_api.projects.declaration import PROJECTS
from pmo_api.projects.models import Project
from pmo_api.resources.declaration import (
    Docs,
    ResourceAction,
    ResourceRules,
    ResourceType,
    Under,
    Writers,
)
from pmo_api.resources.fields import Field, Filter, owned
from pmo_api.standards.rules import RuleCode, Severity

STAFF = Writers(is_staff, ("role_forbidden", "Only pmo and admin keys audit projects."))


def _of_portfolio(column: Any) -> Any:
    return lambda value, _today: column.in_(select(Project.id).where(Project.portfolio_id == value))


class AuditRules(ResourceRules[Audit]):
    """A completed audit is frozen: no change, no archiving (409 ``audit_completed``)."""

    def may_change(self, ctx: ServiceContext, obj: Audit) -> None:
        service.refuse_completed(obj, "changed")

    async def creating(self, ctx: ServiceContext, values: dict[str, Any]) -> Mapping[str, Any]:
        return {"status": AuditStatus.PLANNED, "checklist": [], "answers": []}


AUDITS = ResourceType(
    name="audit",
    model=Audit,
    fields=(
        Field(
            "project_id",
            uuid.UUID,
            description="The project audited.",
            refers_to=PROJECTS.reference,
            update=False,
        ),
        Field("type", AuditType),
        Field("auditor_id", uuid.UUID, description="Who audits.", refers_to=PERSON),
        Field("planned_on", Day, description="The day it is planned for."),
        Field("scope", Text | None, None, "What it covers, in words."),
        Field("summary", Text | None, None, "The auditor's conclusion."),
        owned("status", AuditStatus, "planned, in_progress or completed (frozen)."),
        owned(
            "checklist",
            list[ChecklistItem],
            "What the auditor checks: drawn from the project's standards when it starts.",
        ),
        owned("answers", list[Answer], "The auditor's answers, one per item answered."),
        owned(
            "score",
            float | None,
            "Items that conform / items that apply, in percent: set when it completes.",
        ),
        owned("started_at", datetime | None, "When it started (its checklist drawn)."),
        owned("completed_at", datetime | None, "When it completed: frozen since."),
    ),
    filters=(
        Filter.equal(Audit.project_id, uuid.UUID),
        Filter.one_of(Audit.status, AuditStatus),
        Filter.one_of(Audit.type, AuditType),
        Filter.equal(Audit.auditor_id, uuid.UUID),
        Filter(
            "portfolio_id",
            uuid.UUID,
            _of_portfolio(Audit.project_id),
            "Audits of the portfolio's projects.",
            bound=True,
        ),
        Filter.at_least("planned_from", Audit.planned_on, Day, "Planned on or after this day."),
        Filter.at_most("planned_to", Audit.planned_on, Day, "Planned on or before this day."),
    ),
    sorts=("planned_on", "created_at", "updated_at", "score"),
    default_sort="planned_on",
    writers=STAFF,
    rules=AuditRules(),
    actions=(
        ResourceAction(
            verb="start",
            event="started",
            run=service.start,
            summary="Start an audit: its checklist is drawn",
            description="planned -> in_progress (pmo, admin). The checklist is drawn from the "
            "standards the project follows: each criterion of its methodology's gates (up to "
            "the phase after its current one) and each policy rule in force that applies to "
            "it, with the compliance verdict of this moment. 409 `audit_started`, "
            "`audit_completed`.",
            graphql_description="Start a planned audit: its checklist is drawn (pmo, admin).",
        ),
        ResourceAction(
            verb="answer",
            event="answered",
            run=service.answer,
            input=Answers,
            summary="Answer checklist items",
            description="The auditor's answers (pmo, admin): each item's latest is kept. 422 "
            "`unknown_checklist_item` naming each item the checklist lacks; 409 "
            "`audit_not_started`, `audit_completed`.",
            graphql_description="Answer items of an audit's checklist (pmo, admin).",
        ),
        ResourceAction(
            verb="complete",
            event="completed",
            run=service.complete,
            input=Completion,
            summary="Complete an audit: scored and frozen",
            description="in_progress -> completed (pmo, admin): scored from the answers "
            "(items that conform / items that apply), then frozen. 409 `audit_unanswered` "
            "with the items left (`unanswered`), `audit_not_started`, `audit_completed`.",
            graphql_description="Complete an audit: it is scored and frozen (pmo, admin).",
        ),
    ),
    docs=Docs(
        summary="An audit of a project against the standards it follows.",
        listed="Audits, filtered",
        create="Plan an audit (pmo, admin).",
        update="Change the fields sent (pmo, admin); a completed audit is frozen.",
        archive="Archive an audit that is not completed (pmo, admin).",
    ),
)


# -- findings ----------------------------------------------------------------------------------


class FindingRules(ResourceRules[Finding]):
    """pmo and admin raise findings, in an audit in progress; the audited project's
    manager changes a finding's remediation, owner and due date; a resolved or accepted
    finding is final."""

    async def creating(self, ctx: ServiceContext, values: dict[str, Any]) -> Mapping[str, Any]:
        service.refuse_unless_auditor(ctx)
        audit = await service.audit_for_findings(ctx, values["audit_id"])
        project_id = audit.project_id if audit is not None else None
        await service.check_refers_to(ctx, project_id, values)
        return {
            "project_id": project_id,
            "status": FindingStatus.OPEN,
            **acting(ctx, "raised_by"),
        }

    def may_change(self, ctx: ServiceContext, obj: Finding) -> None:
        service.refuse_closed(obj, "changed")

    async def updating(self, ctx: ServiceContext, obj: Finding, values: dict[str, Any]) -> None:
        await service.checking_update(ctx, obj, values)

    def may_archive(self, ctx: ServiceContext, obj: Finding) -> None:
        if not is_staff(ctx.principal):
            raise Forbidden(code="finding_forbidden", detail="Only pmo and admin archive findings.")


def _overdue(value: bool, today: date) -> ColumnElement[bool]:
    late = and_(Finding.due_on < today, Finding.status.in_(OPEN_STATUSES))
    return late if value else not_(late)


class Remediation(Input):
    remediation: Text | None = Limits(default=None, description="How it is being fixed.")


class Closing(Input):
    note: Text | None = Limits(default=None, description="How it was resolved.")


class Acceptance(Input):
    note: Text = Limits(min_length=1, description="Why it is accepted as it is.")


FINDINGS = ResourceType(
    name="finding",
    model=Finding,
    fields=(
        Field(
            "audit_id",
            uuid.UUID,
            description="The audit that raised it (in progress).",
            refers_to=AUDITS.reference,
            update=False,
        ),
        owned("project_id", uuid.UUID, "The audited project.", refers_to=PROJECTS.reference),
        Field("severity", Severity, Severity.MEDIUM),
        Field("policy_key", Key | None, None, "The policy whose rule it refers to."),
        Field("rule_code", RuleCode | None, None, "The policy rule it refers to."),
        Field("gate_phase", Name | None, None, "The phase whose gate it refers to."),
        Field("description", Text, description="What was found."),
        Field("remediation", Text | None, None, "How it is to be fixed."),
        Field("owner_id", uuid.UUID | None, None, "Who fixes it.", refers_to=PERSON),
        Field("due_on", Day | None, None, "When it is to be fixed by."),
        owned("status", FindingStatus, "open, in_remediation, then resolved or accepted."),
        *acted_by("raised_by", "raised"),
        owned("remediation_started_at", datetime | None, "When its remediation started."),
        owned("closed_at", datetime | None, "When it was resolved or accepted."),
        *acted_by("closed_by", "resolved or accepted", until_done=True),
        owned("closing_note", str | None, "How it was resolved, or why it was accepted."),
    ),
    filters=(
        Filter.one_of(Finding.status, FindingStatus),
        Filter.one_of(Finding.severity, Severity),
        Filter(
            "overdue",
            bool,
            _overdue,
            "true: open or in remediation past its due date; false: the others.",
        ),
        Filter.equal(Finding.audit_id, uuid.UUID),
        Filter.equal(Finding.project_id, uuid.UUID),
        Filter.equal(Finding.owner_id, uuid.UUID),
        Filter.equal(Finding.rule_code, RuleCode),
        Filter(
            "portfolio_id",
            uuid.UUID,
            _of_portfolio(Finding.project_id),
            "Findings on the portfolio's projects.",
            bound=True,
        ),
    ),
    sorts=("created_at", "updated_at", "due_on", "closed_at"),
    default_sort="-created_at",
    writers=Writers(
        lambda principal: principal.role != Role.VIEWER, ("role_forbidden", "Viewers read only.")
    ),
    rules=FindingRules(),
    under=Under(AUDITS, "audit_id"),
    actions=(
        ResourceAction(
            verb="remediate",
            event="remediation_started",
            run=service.remediate,
            input=Remediation,
            summary="Start a finding's remediation",
            description="open -> in_remediation (pmo, admin, the audited project's manager). "
            "409 `finding_in_remediation`, `finding_closed`.",
            graphql_description="Start fixing a finding (pmo, admin, the project's manager).",
        ),
        ResourceAction(
            verb="resolve",
            event="resolved",
            run=service.resolve,
            input=Closing,
            summary="Resolve a finding",
            description="in_remediation -> resolved (pmo, admin, the audited project's "
            "manager), with who and when. 409 `finding_not_in_remediation`, `finding_closed`.",
            graphql_description="Mark a finding fixed (pmo, admin, the project's manager).",
        ),
        ResourceAction(
            verb="accept",
            event="accepted",
            run=service.accept,
            input=Acceptance,
            allowed=Writers(
                is_staff, ("finding_forbidden", "Only pmo and admin accept a finding as it is.")
            ),
            summary="Accept a finding as it is",
            description="open or in_remediation -> accepted (pmo, admin), with a note saying "
            "why. 409 `finding_closed`.",
            graphql_description="Accept a finding as it is, saying why (pmo, admin).",
        ),
    ),
    docs=Docs(
        summary="A finding of an audit: what is wrong, how grave, and its way to closure.",
        listed="Findings across every audit, newest first",
        create="Raise a finding in an audit in progress (pmo, admin).",
        update="Change the fields sent (pmo, admin; the audited project's manager: "
        "remediation, owner, due date).",
        archive="Archive a finding raised in error (pmo, admin).",
    ),
)
