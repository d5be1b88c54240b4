"""The RAID log's own behaviour: a risk's score, an issue's resolution, the decisions on
a change request. Listing, reading, adding, changing and archiving the records are the
shared use cases (``records/service.py``), run with the declarations of
``declaration.py``.

Approving a change request applies its impacts to the project in the same
transaction, under the project's row lock: the planned budget moves by
``budget_impact`` and the planned end by ``schedule_impact_days``; the planned start
never moves.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, update

from pmo_api.core.context import ServiceContext, latest_local_today
from pmo_api.core.errors import Conflict, ErrorDetail, InvalidInput
from pmo_api.core.schemas import MAX_MONEY
from pmo_api.db.records import apply_changes, refuse_archived
from pmo_api.events.service import record
from pmo_api.events.types import Event, RecordEvent
from pmo_api.projects.declaration import PROJECTS
from pmo_api.projects.models import Project
from pmo_api.raid import repository
from pmo_api.raid.models import (
    HIGH_RISK_SCORE,
    OPEN_RISK_STATUSES,
    RESOLVED_ISSUE_STATUSES,
    ChangeRequest,
    ChangeStatus,
    ProjectIssue,
    Risk,
)
from pmo_api.raid.schemas import ChangeDecision
from pmo_api.records.declaration import RecordRules
from pmo_api.records.rules import NoteRequired


async def open_risk_counts(
    ctx: ServiceContext, project_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """OPEN risks (open or mitigating, not archived) of each project: one SQL statement."""
    return await repository.open_risk_counts(ctx.session, project_ids)


# -- risks -----------------------------------------------------------------------------------


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


def _open_and_high(status: Any, score: int, archived: bool) -> tuple[int, int]:
    """A risk's share of its project's open and open high risk counts (0 or 1 each)."""
    is_open = not archived and status in OPEN_RISK_STATUSES
    return int(is_open), int(is_open and score >= HIGH_RISK_SCORE)


async def _count_change(
    ctx: ServiceContext, project_id: uuid.UUID, before: tuple[int, int], after: tuple[int, int]
) -> None:
    """Move the project's open (and open high) risk counts by the risk's change: one
    UPDATE adding the difference, which concurrent writers of the same project apply one
    after the other (the row's lock), none lost; the project's version is not its."""
    more_open, more_high = after[0] - before[0], after[1] - before[1]
    if more_open or more_high:
        projects = cast(Table, Project.__table__)
        await ctx.session.execute(
            update(projects)
            .where(projects.c.id == project_id)
            .values(
                open_risks=projects.c.open_risks + more_open,
                open_high_risks=projects.c.open_high_risks + more_high,
            )
        )


class RiskRules(RecordRules[Risk]):
    """A review is not dated in the future; the score is probability x impact; the
    project's open risk counts follow its risks."""

    async def creating(self, ctx: ServiceContext, project: Project, values: dict[str, Any]) -> None:
        _check_review_date(ctx, values)
        values["score"] = values["probability"] * values["impact"]

    async def updating(self, ctx: ServiceContext, record: Risk, values: dict[str, Any]) -> None:
        _check_review_date(ctx, values)
        if "probability" in values or "impact" in values:
            probability = values.get("probability", record.probability)
            impact = values.get("impact", record.impact)
            values["score"] = probability * impact

    async def created(self, ctx: ServiceContext, project: Project, record: Risk) -> None:
        after = _open_and_high(record.status, record.score, False)
        await _count_change(ctx, project.id, (0, 0), after)

    async def updated(
        self, ctx: ServiceContext, project: Project, record: Risk, changes: Mapping[str, Any]
    ) -> None:
        status = changes["status"]["before"] if "status" in changes else record.status
        score = changes["score"]["before"] if "score" in changes else record.score
        before = _open_and_high(status, score, False)
        after = _open_and_high(record.status, record.score, False)
        await _count_change(ctx, project.id, before, after)

    async def archived(self, ctx: ServiceContext, project: Project, record: Risk) -> None:
        before = _open_and_high(record.status, record.score, False)
        await _count_change(ctx, project.id, before, (0, 0))


# -- issues ----------------------------------------------------------------------------------

RESOLUTION = NoteRequired(
    "resolution", "status", RESOLVED_ISSUE_STATUSES, "resolution_required", "required when resolved"
)
"""A resolved or closed issue carries a resolution."""


def _resolution(ctx: ServiceContext, issue: ProjectIssue | None, values: dict[str, Any]) -> None:
    """``resolved_at`` kept in step with the status; an issue that is (or becomes)
    resolved or closed must carry a resolution."""
    was_resolved = issue is not None and issue.status in RESOLVED_ISSUE_STATUSES
    resolved = RESOLUTION.check("issue", values, issue)
    if resolved and not was_resolved:
        values["resolved_at"] = ctx.now
    elif not resolved and was_resolved:
        values["resolved_at"] = None


class IssueRules(RecordRules[ProjectIssue]):
    async def creating(self, ctx: ServiceContext, project: Project, values: dict[str, Any]) -> None:
        _resolution(ctx, None, values)

    async def updating(
        self, ctx: ServiceContext, record: ProjectIssue, values: dict[str, Any]
    ) -> None:
        _resolution(ctx, record, values)


# -- change requests -------------------------------------------------------------------------


def _still_proposed(change: ChangeRequest) -> None:
    refuse_archived("change", change)
    if change.status is not ChangeStatus.PROPOSED:
        raise Conflict(
            code="change_already_decided",
            detail=f"The change request was already {change.status.value}: it can no "
            "longer change.",
        )


class ChangeRules(RecordRules[ChangeRequest]):
    """A change request is proposed; it changes only while it is."""

    async def creating(self, ctx: ServiceContext, project: Project, values: dict[str, Any]) -> None:
        values["status"] = ChangeStatus.PROPOSED

    async def updating(
        self, ctx: ServiceContext, record: ChangeRequest, values: dict[str, Any]
    ) -> None:
        _still_proposed(record)


def _decide(
    ctx: ServiceContext, change: ChangeRequest, status: ChangeStatus, body: Any
) -> dict[str, Any]:
    _still_proposed(change)
    note = body.note if isinstance(body, ChangeDecision) else None
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


async def approve(
    ctx: ServiceContext, change: ChangeRequest, project: Project, body: Any, event: RecordEvent
) -> None:
    """Approve a proposed change and apply its impacts to the (locked) project: planned
    budget += budget_impact (between 0 and the largest amount), planned end +=
    schedule_impact_days (the planned start stays). A schedule impact on a project
    without a planned end is refused: there is nothing to move."""
    _still_proposed(change)
    values: dict[str, Any] = {"planned_budget": _approved_budget(project, change)}
    if change.schedule_impact_days:
        values["planned_end"] = _approved_end(project, change)
    project_changes = apply_changes(ctx, project, values)
    changes = _decide(ctx, change, ChangeStatus.APPROVED, body)
    await ctx.session.flush()
    await record(ctx, Event(event, change.id, changes, change.version))
    if project_changes:
        project_changes["change_request_id"] = {"before": None, "after": str(change.id)}
        await record(
            ctx, Event(PROJECTS.updated_event, project.id, project_changes, project.version)
        )


async def reject(
    ctx: ServiceContext, change: ChangeRequest, project: Project, body: Any, event: RecordEvent
) -> None:
    """Reject a proposed change; the project is left as it is."""
    changes = _decide(ctx, change, ChangeStatus.REJECTED, body)
    await ctx.session.flush()
    await record(ctx, Event(event, change.id, changes, change.version))


def _approved_budget(project: Project, change: ChangeRequest) -> Decimal:
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


def _approved_end(project: Project, change: ChangeRequest) -> date:
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
