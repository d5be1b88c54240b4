"""The RAID log of a project: risks, issues and change requests.

Every write goes through ``project_for_writing`` (the project's object rules, and a
closed door on archived projects). Approving a change request applies its impacts to
the project in the same transaction, under the project's row lock: the planned budget
moves by ``budget_impact`` and the planned end by ``schedule_impact_days``; the planned
start never moves.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pmo_api.core.context import ServiceContext, latest_local_today
from pmo_api.core.errors import Conflict, ErrorDetail, Forbidden, InvalidInput
from pmo_api.core.pagination import ListParams, Page
from pmo_api.core.schemas import MAX_MONEY
from pmo_api.db.records import (
    apply_changes,
    refuse_archived,
    require_reference,
)
from pmo_api.events.service import record
from pmo_api.events.types import Event, EventType
from pmo_api.people.models import Person
from pmo_api.projects.control import (
    add_record,
    archive_project_record,
    list_project_records,
    project_for_writing,
    project_record_pages,
    record_for_writing,
    save_changes,
)
from pmo_api.raid import access
from pmo_api.raid.models import (
    RESOLVED_ISSUE_STATUSES,
    ChangeRequest,
    ChangeStatus,
    IssueStatus,
    ProjectIssue,
    Risk,
    RiskStatus,
)
from pmo_api.raid.repository import ChangeRepository, IssueRepository, RiskRepository
from pmo_api.raid.schemas import (
    ChangeCreate,
    ChangeFilter,
    ChangeUpdate,
    IssueCreate,
    IssueFilter,
    IssueUpdate,
    RiskCreate,
    RiskFilter,
    RiskUpdate,
)

RISK, ISSUE, CHANGE = "risk", "issue", "change"
RISK_SORT, ISSUE_SORT, CHANGE_SORT = "-score", "-created_at", "-created_at"


async def _check_owner(ctx: ServiceContext, values: Mapping[str, Any]) -> None:
    if values.get("owner_id") is not None:
        await require_reference(ctx.session, Person, values["owner_id"], "owner_id", "person")


# -- risks -----------------------------------------------------------------------------------


async def get_risk(ctx: ServiceContext, risk_id: uuid.UUID) -> Risk:
    return await RiskRepository(ctx.session).require(risk_id, ctx.principal)


async def get_risks(ctx: ServiceContext, ids: Sequence[uuid.UUID]) -> list[Risk]:
    return await RiskRepository(ctx.session).get_many(ids, ctx.principal)


async def list_risks(
    ctx: ServiceContext, project_ref: uuid.UUID | str, filters: RiskFilter, params: ListParams
) -> Page[Risk]:
    return await list_project_records(
        ctx, RiskRepository(ctx.session), project_ref, filters, params, default_sort=RISK_SORT
    )


async def risks_of_projects(
    ctx: ServiceContext,
    project_ids: Sequence[uuid.UUID],
    params: ListParams,
    status: Sequence[RiskStatus] | None = None,
) -> dict[uuid.UUID, Page[Risk]]:
    """A page of each project's non-archived risks, highest score first (one statement)."""
    filters = RiskFilter(status=list(status) if status else None)
    return await project_record_pages(
        ctx,
        RiskRepository(ctx.session),
        project_ids,
        params,
        default_sort=RISK_SORT,
        filters=filters,
        narrow=RiskRepository.unarchived_with_status(status),
    )


async def open_risk_counts(
    ctx: ServiceContext, project_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """OPEN risks (open or mitigating, not archived) of each project: one SQL statement."""
    return await RiskRepository(ctx.session).open_counts(project_ids)


def _check_review_date(ctx: ServiceContext, values: Mapping[str, Any]) -> None:
    reviewed = values.get("last_reviewed_on")
    latest = latest_local_today(ctx.now)
    if reviewed is not None and reviewed > latest:
        raise InvalidInput(
            code="review_in_future",
            detail=f"last_reviewed_on ({reviewed}) is after today ({latest} at the latest, "
            "wherever the caller is).",
            errors=[ErrorDetail(("body", "last_reviewed_on"), "in the future", "value_error")],
        )


async def raise_risk(ctx: ServiceContext, project_ref: uuid.UUID | str, data: RiskCreate) -> Risk:
    project = await project_for_writing(ctx, project_ref)
    values = data.model_dump()
    _check_review_date(ctx, values)
    await _check_owner(ctx, values)
    values["score"] = data.probability * data.impact
    return await add_record(ctx, Risk, project, EventType.RISK_RAISED, values)


async def update_risk(
    ctx: ServiceContext, risk_id: uuid.UUID, patch: RiskUpdate, expected_version: int | None
) -> Risk:
    risk = await get_risk(ctx, risk_id)
    await record_for_writing(ctx, RISK, risk, expected_version)
    refuse_archived(RISK, risk)
    values = patch.changes()
    _check_review_date(ctx, values)
    await _check_owner(ctx, values)
    if "probability" in values or "impact" in values:
        probability = values.get("probability", risk.probability)
        impact = values.get("impact", risk.impact)
        values["score"] = probability * impact
    await save_changes(ctx, risk, EventType.RISK_UPDATED, apply_changes(ctx, risk, values))
    return risk


async def archive_risk(
    ctx: ServiceContext, risk_id: uuid.UUID, expected_version: int | None
) -> Risk:
    risk = await get_risk(ctx, risk_id)
    await record_for_writing(ctx, RISK, risk, expected_version)
    await archive_project_record(ctx, RISK, risk, EventType.RISK_ARCHIVED)
    return risk


# -- issues ----------------------------------------------------------------------------------


async def get_issue(ctx: ServiceContext, issue_id: uuid.UUID) -> ProjectIssue:
    return await IssueRepository(ctx.session).require(issue_id, ctx.principal)


async def get_issues(ctx: ServiceContext, ids: Sequence[uuid.UUID]) -> list[ProjectIssue]:
    return await IssueRepository(ctx.session).get_many(ids, ctx.principal)


async def list_issues(
    ctx: ServiceContext, project_ref: uuid.UUID | str, filters: IssueFilter, params: ListParams
) -> Page[ProjectIssue]:
    return await list_project_records(
        ctx, IssueRepository(ctx.session), project_ref, filters, params, default_sort=ISSUE_SORT
    )


async def issues_of_projects(
    ctx: ServiceContext, project_ids: Sequence[uuid.UUID], params: ListParams
) -> dict[uuid.UUID, Page[ProjectIssue]]:
    """A page of each project's non-archived issues, newest first (one statement)."""
    return await project_record_pages(
        ctx,
        IssueRepository(ctx.session),
        project_ids,
        params,
        default_sort=ISSUE_SORT,
        filters=IssueFilter(),
    )


def _resolution_values(
    ctx: ServiceContext, issue: ProjectIssue | None, values: dict[str, Any]
) -> dict[str, Any]:
    """The values with ``resolved_at`` kept in step with the status; an issue that is
    (or becomes) resolved or closed must carry a resolution."""
    was_resolved = issue is not None and issue.status in RESOLVED_ISSUE_STATUSES
    status = values.get("status", issue.status if issue is not None else IssueStatus.OPEN)
    resolution = values.get("resolution", issue.resolution if issue is not None else None)
    resolved = status in RESOLVED_ISSUE_STATUSES
    if resolved and not resolution:
        raise InvalidInput(
            code="resolution_required",
            detail=f"An issue that is {status.value} needs a resolution.",
            errors=[ErrorDetail(("body", "resolution"), "required when resolved", "missing")],
        )
    if resolved and not was_resolved:
        return {**values, "resolved_at": ctx.now}
    if not resolved and was_resolved:
        return {**values, "resolved_at": None}
    return values


async def raise_issue(
    ctx: ServiceContext, project_ref: uuid.UUID | str, data: IssueCreate
) -> ProjectIssue:
    project = await project_for_writing(ctx, project_ref)
    values = _resolution_values(ctx, None, data.model_dump())
    await _check_owner(ctx, values)
    return await add_record(ctx, ProjectIssue, project, EventType.ISSUE_RAISED, values)


async def update_issue(
    ctx: ServiceContext, issue_id: uuid.UUID, patch: IssueUpdate, expected_version: int | None
) -> ProjectIssue:
    issue = await get_issue(ctx, issue_id)
    await record_for_writing(ctx, ISSUE, issue, expected_version)
    refuse_archived(ISSUE, issue)
    values = _resolution_values(ctx, issue, patch.changes())
    await _check_owner(ctx, values)
    await save_changes(ctx, issue, EventType.ISSUE_UPDATED, apply_changes(ctx, issue, values))
    return issue


async def archive_issue(
    ctx: ServiceContext, issue_id: uuid.UUID, expected_version: int | None
) -> ProjectIssue:
    issue = await get_issue(ctx, issue_id)
    await record_for_writing(ctx, ISSUE, issue, expected_version)
    await archive_project_record(ctx, ISSUE, issue, EventType.ISSUE_ARCHIVED)
    return issue


# -- change requests -------------------------------------------------------------------------


async def get_change(ctx: ServiceContext, change_id: uuid.UUID) -> ChangeRequest:
    return await ChangeRepository(ctx.session).require(change_id, ctx.principal)


async def get_changes(ctx: ServiceContext, ids: Sequence[uuid.UUID]) -> list[ChangeRequest]:
    return await ChangeRepository(ctx.session).get_many(ids, ctx.principal)


async def list_changes(
    ctx: ServiceContext, project_ref: uuid.UUID | str, filters: ChangeFilter, params: ListParams
) -> Page[ChangeRequest]:
    return await list_project_records(
        ctx, ChangeRepository(ctx.session), project_ref, filters, params, default_sort=CHANGE_SORT
    )


async def changes_of_projects(
    ctx: ServiceContext, project_ids: Sequence[uuid.UUID], params: ListParams
) -> dict[uuid.UUID, Page[ChangeRequest]]:
    """A page of each project's non-archived change requests, newest first (one statement)."""
    return await project_record_pages(
        ctx,
        ChangeRepository(ctx.session),
        project_ids,
        params,
        default_sort=CHANGE_SORT,
        filters=ChangeFilter(),
    )


async def propose_change(
    ctx: ServiceContext, project_ref: uuid.UUID | str, data: ChangeCreate
) -> ChangeRequest:
    project = await project_for_writing(ctx, project_ref)
    values = {**data.model_dump(), "status": ChangeStatus.PROPOSED}
    return await add_record(ctx, ChangeRequest, project, EventType.CHANGE_PROPOSED, values)


def _still_proposed(change: ChangeRequest) -> None:
    refuse_archived(CHANGE, change)
    if change.status is not ChangeStatus.PROPOSED:
        raise Conflict(
            code="change_already_decided",
            detail=f"The change request was already {change.status.value}: it can no "
            "longer change.",
        )


async def update_change(
    ctx: ServiceContext, change_id: uuid.UUID, patch: ChangeUpdate, expected_version: int | None
) -> ChangeRequest:
    change = await get_change(ctx, change_id)
    await record_for_writing(ctx, CHANGE, change, expected_version)
    _still_proposed(change)
    changes = apply_changes(ctx, change, patch.changes())
    await save_changes(ctx, change, EventType.CHANGE_UPDATED, changes)
    return change


async def archive_change(
    ctx: ServiceContext, change_id: uuid.UUID, expected_version: int | None
) -> ChangeRequest:
    """Archiving an approved change does not undo what its approval applied."""
    change = await get_change(ctx, change_id)
    await record_for_writing(ctx, CHANGE, change, expected_version)
    await archive_project_record(ctx, CHANGE, change, EventType.CHANGE_ARCHIVED)
    return change


async def _change_for_deciding(
    ctx: ServiceContext, change_id: uuid.UUID, expected_version: int | None
) -> tuple[ChangeRequest, Any]:
    """The change and its project, the project's row lock held and the change read
    afresh under it, so two deciders queue and the second finds it decided."""
    change = await get_change(ctx, change_id)
    if not access.can_decide_change(ctx.principal):
        raise Forbidden(
            code="change_decision_forbidden",
            detail="Only pmo and admin keys approve or reject change requests.",
        )
    project = await record_for_writing(ctx, CHANGE, change, expected_version, lock=True)
    _still_proposed(change)
    return change, project


def _decide(
    ctx: ServiceContext, change: ChangeRequest, status: ChangeStatus, note: str | None
) -> dict[str, Any]:
    return apply_changes(
        ctx,
        change,
        {
            "status": status,
            "decided_by": ctx.principal.name,
            "decided_by_person_id": ctx.principal.person_id,
            "decided_at": ctx.now,
            "decision_note": note,
        },
    )


async def approve_change(
    ctx: ServiceContext, change_id: uuid.UUID, note: str | None, expected_version: int | None
) -> ChangeRequest:
    """Approve a proposed change and apply its impacts to the project: planned budget
    += budget_impact (between 0 and the largest amount), planned end +=
    schedule_impact_days (the planned start stays). A schedule impact on a project
    without a planned end is refused: there is nothing to move."""
    change, project = await _change_for_deciding(ctx, change_id, expected_version)
    values: dict[str, Any] = {"planned_budget": _approved_budget(project, change)}
    if change.schedule_impact_days:
        values["planned_end"] = _approved_end(project, change)
    project_changes = apply_changes(ctx, project, values)
    changes = _decide(ctx, change, ChangeStatus.APPROVED, note)
    await ctx.session.flush()
    await record(ctx, Event(EventType.CHANGE_APPROVED, change.id, changes))
    if project_changes:
        project_changes["change_request_id"] = {"before": None, "after": str(change.id)}
        await record(ctx, Event(EventType.PROJECT_UPDATED, project.id, project_changes))
    return change


def _approved_budget(project: Any, change: ChangeRequest) -> Decimal:
    """The planned budget once the change's ``budget_impact`` is applied, if it stays
    between 0 and the largest amount a budget holds."""
    budget: Decimal = project.planned_budget + change.budget_impact
    if budget < 0:
        raise InvalidInput(
            code="planned_budget_negative",
            detail=f"The change's budget_impact ({change.budget_impact}) would bring the "
            f"planned budget to {budget}: it may not fall below 0.",
        )
    if budget > MAX_MONEY:
        raise InvalidInput(
            code="planned_budget_too_large",
            detail=f"The change's budget_impact ({change.budget_impact}) would bring the "
            f"planned budget to {budget}: it may not exceed {MAX_MONEY}.",
        )
    return budget


def _approved_end(project: Any, change: ChangeRequest) -> date:
    """The planned end once the change's ``schedule_impact_days`` is applied: it must
    exist, stay a calendar date and not fall before the planned start."""
    days = change.schedule_impact_days
    if project.planned_end is None:
        raise Conflict(
            code="no_planned_end",
            detail=f"The change's schedule_impact_days ({days}) cannot be applied: the "
            "project has no planned end. Set the planned end first, or propose the "
            "change without a schedule impact.",
        )
    try:
        end: date = project.planned_end + timedelta(days=days)
    except OverflowError:
        raise InvalidInput(
            code="planned_end_out_of_range",
            detail=f"The change's schedule_impact_days ({days}) would move the planned end "
            f"({project.planned_end}) outside the calendar ({date.min} to {date.max}).",
        ) from None
    if project.planned_start is not None and end < project.planned_start:
        raise InvalidInput(
            code="dates_out_of_order",
            detail=f"The change's schedule_impact_days ({days}) would move the planned end "
            f"({end}) before the planned start ({project.planned_start}).",
        )
    return end


async def reject_change(
    ctx: ServiceContext, change_id: uuid.UUID, note: str | None, expected_version: int | None
) -> ChangeRequest:
    change, _project = await _change_for_deciding(ctx, change_id, expected_version)
    changes = _decide(ctx, change, ChangeStatus.REJECTED, note)
    await ctx.session.flush()
    await record(ctx, Event(EventType.CHANGE_REJECTED, change.id, changes))
    return change
