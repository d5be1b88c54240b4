"""What audits and findings do beyond create, update and archive: an audit starts
(its checklist drawn), takes answers and completes (scored, then frozen); a finding
goes into remediation and is resolved or accepted, with who and when."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from pmo_api.audits import checklist
from pmo_api.audits.checklist import Answers, Completion
from pmo_api.audits.models import Audit, AuditStatus, Finding, FindingStatus
from pmo_api.core.access import is_staff
from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict, ErrorDetail, Forbidden, InvalidInput
from pmo_api.db.records import apply_changes
from pmo_api.events.service import save_changes
from pmo_api.events.types import RecordEvent
from pmo_api.projects import access
from pmo_api.projects.models import Project
from pmo_api.standards.compliance import project_compliance
from pmo_api.standards.models import Methodology, Policy

# -- audits ------------------------------------------------------------------------------------


def refuse_completed(audit: Audit, doing: str) -> None:
    if audit.status == AuditStatus.COMPLETED:
        raise Conflict(
            code="audit_completed",
            detail=f"The audit was completed on {audit.completed_at:%Y-%m-%d}: it is frozen "
            f"and cannot be {doing}.",
        )


def _refuse_unless_in_progress(audit: Audit, doing: str) -> None:
    refuse_completed(audit, doing)
    if audit.status != AuditStatus.IN_PROGRESS:
        raise Conflict(
            code="audit_not_started",
            detail=f"The audit is {audit.status.value}: start it before it is {doing}.",
        )


async def start(ctx: ServiceContext, audit: Audit, _: Any, event: RecordEvent) -> None:
    """planned -> in_progress, its checklist drawn from the standards the project
    follows and its compliance now."""
    refuse_completed(audit, "started")
    if audit.status != AuditStatus.PLANNED:
        raise Conflict(code="audit_started", detail="The audit has started already.")
    project = await ctx.session.get(Project, audit.project_id)
    assert project is not None  # a foreign key
    items: list[dict[str, Any]] = []
    if project.methodology_id is not None:
        phases = await ctx.session.scalar(
            select(Methodology.phases).where(Methodology.id == project.methodology_id)
        )
        items += checklist.gate_items(phases or [], project.phase)
    report = await project_compliance(ctx, project.id)
    items += checklist.rule_items(report["rules"])
    changes = apply_changes(
        ctx,
        audit,
        {
            "status": AuditStatus.IN_PROGRESS,
            "started_at": ctx.now,
            "checklist": [checklist.ChecklistItem.model_validate(i).model_dump() for i in items],
        },
    )
    await save_changes(ctx, audit, event, changes)


async def answer(ctx: ServiceContext, audit: Audit, body: Answers, event: RecordEvent) -> None:
    """The answers sent kept (each item's latest)."""
    _refuse_unless_in_progress(audit, "answered")
    answers = checklist.merged(
        audit.checklist, audit.answers, body.answers, ctx.now.isoformat(), ctx.principal.name
    )
    await save_changes(ctx, audit, event, apply_changes(ctx, audit, {"answers": answers}))


async def complete(ctx: ServiceContext, audit: Audit, body: Completion, event: RecordEvent) -> None:
    """in_progress -> completed, scored from the answers; every item must be answered
    (409 ``audit_unanswered`` naming each one left)."""
    _refuse_unless_in_progress(audit, "completed")
    left = checklist.unanswered(audit.checklist, audit.answers)
    if left:
        raise Conflict(
            code="audit_unanswered",
            detail=f"{len(left)} checklist item(s) have no answer: answer each (not_applicable "
            "where it does not apply) before completing the audit.",
            extra={"unanswered": left},
        )
    values: dict[str, Any] = {
        "status": AuditStatus.COMPLETED,
        "completed_at": ctx.now,
        "score": checklist.score(audit.answers),
    }
    if body is not None and body.summary is not None:
        values["summary"] = body.summary
    await save_changes(ctx, audit, event, apply_changes(ctx, audit, values))


# -- findings ----------------------------------------------------------------------------------

MANAGERS_WRITE = frozenset({"remediation", "owner_id", "due_on"})
"""What the audited project's manager may change on a finding: how and by whom it is
fixed, and by when; what was found and how grave is the auditor's."""


def refuse_unless_auditor(ctx: ServiceContext) -> None:
    """pmo and admin raise findings (403 ``finding_forbidden``)."""
    if not is_staff(ctx.principal):
        raise Forbidden(code="finding_forbidden", detail="Only pmo and admin raise findings.")


async def audit_for_findings(ctx: ServiceContext, audit_id: uuid.UUID) -> Audit | None:
    """The audit a finding is raised in (None: there is none, the reference check's
    422); 409 unless it is in progress."""
    audit = await ctx.session.get(Audit, audit_id)
    if audit is not None:
        _refuse_unless_in_progress(audit, "given findings")
    return audit


async def _project_manager(ctx: ServiceContext, project_id: uuid.UUID) -> uuid.UUID | None:
    found: uuid.UUID | None = await ctx.session.scalar(
        select(Project.manager_id).where(Project.id == project_id)
    )
    return found


async def check_refers_to(
    ctx: ServiceContext, project_id: uuid.UUID | None, values: Mapping[str, Any]
) -> None:
    """What a finding refers to must be there: its rule in a policy (of ``policy_key``
    when sent; 422 ``rule_not_found``), its gate a phase of the methodology the audited
    project follows (422 ``unknown_phase``)."""
    code, key, phase = values.get("rule_code"), values.get("policy_key"), values.get("gate_phase")
    if code is None and key is not None:
        raise InvalidInput(
            code="rule_not_found",
            detail="A finding names a policy with the code of its rule.",
            errors=[ErrorDetail(("body", "rule_code"), "required with policy_key", "missing")],
        )
    if code is not None:
        query = select(Policy.rules).where(Policy.archived_at.is_(None))
        if key is not None:
            query = query.where(Policy.key == key)
        found = any(
            rule.get("code") == code for rules in await ctx.session.scalars(query) for rule in rules
        )
        if not found:
            where = f" of policy {key}" if key is not None else " of any policy"
            raise InvalidInput(
                code="rule_not_found",
                detail=f"No rule {code}{where}.",
                errors=[ErrorDetail(("body", "rule_code"), "no such rule", "value_error")],
            )
    if phase is not None and project_id is not None:
        phases = await ctx.session.scalar(
            select(Methodology.phases)
            .join(Project, Project.methodology_id == Methodology.id)
            .where(Project.id == project_id)
        )
        if phase not in [p["name"] for p in phases or []]:
            raise InvalidInput(
                code="unknown_phase",
                detail=f"{phase} is not a phase of the methodology the audited project follows.",
                errors=[ErrorDetail(("body", "gate_phase"), "no such phase", "value_error")],
            )


async def refuse_unless_answering(ctx: ServiceContext, finding: Finding) -> None:
    """pmo and admin, or the audited project's manager (403 ``finding_forbidden``)."""
    principal = ctx.principal
    if is_staff(principal):
        return
    if not access.manages(principal, await _project_manager(ctx, finding.project_id)):
        raise Forbidden(
            code="finding_forbidden",
            detail="pmo and admin keys, and the audited project's manager, answer findings.",
        )


def refuse_closed(finding: Finding, doing: str) -> None:
    if finding.status in (FindingStatus.RESOLVED, FindingStatus.ACCEPTED):
        raise Conflict(
            code="finding_closed",
            detail=f"The finding is {finding.status.value}: it cannot be {doing}.",
        )


async def checking_update(ctx: ServiceContext, finding: Finding, values: Mapping[str, Any]) -> None:
    await refuse_unless_answering(ctx, finding)
    if not is_staff(ctx.principal):
        others = sorted(set(values) - MANAGERS_WRITE)
        if others:
            raise Forbidden(
                code="finding_forbidden",
                detail="The audited project's manager changes a finding's remediation, owner "
                "and due date; the rest is the auditor's.",
                errors=[
                    ErrorDetail(("body", name), "the auditor's", "forbidden") for name in others
                ],
            )
    if {"rule_code", "policy_key", "gate_phase"} & set(values):
        sent = {
            name: values.get(name, getattr(finding, name))
            for name in ("rule_code", "policy_key", "gate_phase")
        }
        await check_refers_to(ctx, finding.project_id, sent)


def _closing(ctx: ServiceContext, status: FindingStatus, note: str | None) -> dict[str, Any]:
    return {
        "status": status,
        "closed_at": ctx.now,
        "closed_by": ctx.principal.name,
        "closed_by_person_id": ctx.principal.person_id,
        "closing_note": note,
    }


async def remediate(ctx: ServiceContext, finding: Finding, body: Any, event: RecordEvent) -> None:
    """open -> in_remediation."""
    await refuse_unless_answering(ctx, finding)
    refuse_closed(finding, "remediated")
    if finding.status != FindingStatus.OPEN:
        raise Conflict(
            code="finding_in_remediation", detail="The finding is in remediation already."
        )
    values: dict[str, Any] = {
        "status": FindingStatus.IN_REMEDIATION,
        "remediation_started_at": ctx.now,
    }
    if body is not None and body.remediation is not None:
        values["remediation"] = body.remediation
    await save_changes(ctx, finding, event, apply_changes(ctx, finding, values))


async def resolve(ctx: ServiceContext, finding: Finding, body: Any, event: RecordEvent) -> None:
    """in_remediation -> resolved."""
    await refuse_unless_answering(ctx, finding)
    refuse_closed(finding, "resolved")
    if finding.status != FindingStatus.IN_REMEDIATION:
        raise Conflict(
            code="finding_not_in_remediation",
            detail="Only a finding in remediation is resolved: start its remediation first.",
        )
    note = body.note if body is not None else None
    values = _closing(ctx, FindingStatus.RESOLVED, note)
    await save_changes(ctx, finding, event, apply_changes(ctx, finding, values))


async def accept(ctx: ServiceContext, finding: Finding, body: Any, event: RecordEvent) -> None:
    """open or in_remediation -> accepted (pmo, admin), with the reason."""
    refuse_closed(finding, "accepted")
    values = _closing(ctx, FindingStatus.ACCEPTED, body.note)
    await save_changes(ctx, finding, event, apply_changes(ctx, finding, values))
