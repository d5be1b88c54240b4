"""A project's schedule, its own behaviour: a milestone's done date, a deliverable's
acceptance, a baseline's capture of the plan and the comparison of two plans, and the
milestone figures of a page of projects. Listing, reading, adding, changing and
archiving the records are the shared use cases (``records/service.py``), run with the
declarations of ``declaration.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pmo_api.core.context import ServiceContext, latest_local_today
from pmo_api.core.errors import ErrorDetail, InvalidInput
from pmo_api.db.records import apply_changes
from pmo_api.events.service import save_changes
from pmo_api.projects.declaration import PROJECTS
from pmo_api.projects.models import Project, follow_baseline
from pmo_api.records.declaration import RecordRules
from pmo_api.records.service import project_for_reading
from pmo_api.schedule import repository
from pmo_api.schedule.models import (
    Baseline,
    Deliverable,
    DeliverableStatus,
    Milestone,
    MilestoneStatus,
)
from pmo_api.schedule.schemas import (
    BaselineComparison,
    BaselineDateChange,
    BaselineMilestone,
    BaselineMilestoneChanges,
    BaselineMilestoneMove,
    BaselineMoneyChange,
    BaselinePlan,
    BaselinePlanChanges,
)


def _invalid(code: str, field: str, detail: str, msg: str) -> InvalidInput:
    return InvalidInput(
        code=code, detail=detail, errors=[ErrorDetail(("body", field), msg, "value_error")]
    )


# -- milestones ------------------------------------------------------------------------------


async def overdue_milestone_counts(
    ctx: ServiceContext, project_ids: Sequence[uuid.UUID], today: date
) -> dict[uuid.UUID, int]:
    """How many milestones of each project are overdue on ``today`` (one statement)."""
    return await repository.overdue_counts(ctx.session, project_ids, today)


async def next_milestones(
    ctx: ServiceContext, project_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Milestone]:
    """Each project's earliest-due milestone still open (one statement); projects
    without one are absent."""
    return await repository.next_by_project(ctx.session, project_ids, ctx.now.date())


def _settle_done_date(
    ctx: ServiceContext, values: dict[str, Any], status: MilestoneStatus, done: date | None
) -> None:
    """The done date belongs to a done milestone: set to today when a milestone is done
    without one, cleared when it is reopened, refused on any other status or in the
    future. ``values`` are the fields being written; ``status``/``done`` the result."""
    today = ctx.now.date()
    if status is MilestoneStatus.DONE:
        if done is None:
            values["done_date"] = today
        elif done > latest_local_today(ctx.now):
            raise _invalid(
                "done_date_in_future",
                "done_date",
                f"done_date ({done}) is after today ({latest_local_today(ctx.now)} at the "
                "latest, wherever the caller is).",
                "after today",
            )
    elif done is not None:
        if values.get("done_date") is not None:
            raise _invalid(
                "done_date_not_done",
                "done_date",
                f"done_date is only set on a done milestone, not on a {status.value} one.",
                "only with status done",
            )
        values["done_date"] = None  # reopened: it is no longer done


class MilestoneRules(RecordRules[Milestone]):
    async def creating(self, ctx: ServiceContext, project: Project, values: dict[str, Any]) -> None:
        _settle_done_date(ctx, values, values["status"], values.get("done_date"))

    async def updating(
        self, ctx: ServiceContext, record: Milestone, values: dict[str, Any]
    ) -> None:
        _settle_done_date(
            ctx,
            values,
            values.get("status", record.status),
            values.get("done_date", record.done_date),
        )


# -- deliverables ----------------------------------------------------------------------------


def _acceptance(ctx: ServiceContext, status: DeliverableStatus) -> dict[str, Any]:
    """Who accepted and when: the caller and now when accepted; nobody otherwise."""
    if status is DeliverableStatus.ACCEPTED:
        return {
            "accepted_by": ctx.principal.name,
            "accepted_by_person_id": ctx.principal.person_id,
            "accepted_at": ctx.now,
        }
    return {"accepted_by": None, "accepted_by_person_id": None, "accepted_at": None}


class DeliverableRules(RecordRules[Deliverable]):
    """Acceptance is recorded by the service, never sent: a new status sets or clears it."""

    async def creating(self, ctx: ServiceContext, project: Project, values: dict[str, Any]) -> None:
        values.update(_acceptance(ctx, values["status"]))

    async def updating(
        self, ctx: ServiceContext, record: Deliverable, values: dict[str, Any]
    ) -> None:
        status = values.get("status", record.status)
        if status is not record.status:
            values.update(_acceptance(ctx, status))


# -- baselines -------------------------------------------------------------------------------


async def get_baseline(ctx: ServiceContext, baseline_id: uuid.UUID) -> Baseline:
    return await repository.require_baseline(ctx.session, baseline_id)


def _captured(milestones: Sequence[Milestone]) -> list[dict[str, Any]]:
    return [
        BaselineMilestone(id=m.id, name=m.name, due_date=m.due_date, status=m.status).model_dump(
            mode="json"
        )
        for m in milestones
    ]


class BaselineRules(RecordRules[Baseline]):
    """A baseline records the project's plan as it stands (dates, budget, milestones)
    and becomes the project's current baseline; it never changes afterwards. The row
    lock keeps the captured plan and the current baseline consistent with a concurrent
    capture or plan change."""

    lock_project = True

    async def creating(self, ctx: ServiceContext, project: Project, values: dict[str, Any]) -> None:
        milestones = await repository.open_on_project(ctx.session, project.id, ctx.now.date())
        values.update(
            planned_start=project.planned_start,
            planned_end=project.planned_end,
            planned_budget=project.planned_budget,
            milestones=_captured(milestones),
            captured_by=ctx.principal.name,
            captured_by_person_id=ctx.principal.person_id,
        )

    async def created(self, ctx: ServiceContext, project: Project, record: Baseline) -> None:
        follow_baseline(project, record.planned_budget, record.planned_start, record.planned_end)
        changes = apply_changes(ctx, project, {"baseline_id": record.id})
        await save_changes(ctx, project, PROJECTS.updated_event, changes)


@dataclass(frozen=True)
class _Plan:
    ref: BaselinePlan
    milestones: list[BaselineMilestone]


def _baseline_plan(baseline: Baseline) -> _Plan:
    return _Plan(
        ref=BaselinePlan(
            kind="baseline",
            baseline_id=baseline.id,
            name=baseline.name,
            captured_at=baseline.created_at,
            planned_start=baseline.planned_start,
            planned_end=baseline.planned_end,
            planned_budget=baseline.planned_budget,
        ),
        milestones=[BaselineMilestone.model_validate(m) for m in baseline.milestones],
    )


def _current_plan(project: Project, milestones: Sequence[Milestone]) -> _Plan:
    # The current plan is "as of" its last change (the project's or a milestone's), not
    # as of the request: the same plan compares to the same body, so its ETag holds.
    changed = max([project.updated_at, *(m.updated_at for m in milestones)])
    return _Plan(
        ref=BaselinePlan(
            kind="current",
            baseline_id=None,
            name=None,
            captured_at=changed,
            planned_start=project.planned_start,
            planned_end=project.planned_end,
            planned_budget=project.planned_budget,
        ),
        milestones=[
            BaselineMilestone(id=m.id, name=m.name, due_date=m.due_date, status=m.status)
            for m in milestones
        ],
    )


def _date_change(before: date | None, after: date | None) -> BaselineDateChange:
    days = None if before is None or after is None else (after - before).days
    return BaselineDateChange(from_=before, to=after, days=days)


def _compare(before: _Plan, after: _Plan) -> BaselineComparison:
    old = {m.id: m for m in before.milestones}
    new = {m.id: m for m in after.milestones}
    moved = [
        BaselineMilestoneMove(
            id=m.id,
            name=new[m.id].name,
            from_=m.due_date,
            to=new[m.id].due_date,
            days=(new[m.id].due_date - m.due_date).days,
        )
        for m in before.milestones
        if m.id in new and new[m.id].due_date != m.due_date
    ]
    return BaselineComparison(
        from_=before.ref,
        to=after.ref,
        changes=BaselinePlanChanges(
            planned_start=_date_change(before.ref.planned_start, after.ref.planned_start),
            planned_end=_date_change(before.ref.planned_end, after.ref.planned_end),
            planned_budget=BaselineMoneyChange(
                from_=before.ref.planned_budget,
                to=after.ref.planned_budget,
                delta=Decimal(after.ref.planned_budget - before.ref.planned_budget),
            ),
        ),
        milestones=BaselineMilestoneChanges(
            added=[m for m in after.milestones if m.id not in old],
            removed=[m for m in before.milestones if m.id not in new],
            moved=moved,
        ),
    )


async def compare_baseline(
    ctx: ServiceContext, baseline_id: uuid.UUID, with_id: uuid.UUID | None = None
) -> BaselineComparison:
    """A baseline against the project's current plan, or against another baseline of
    the same project (``with_id``): what moved, what was added or removed."""
    baseline = await repository.require_baseline(ctx.session, baseline_id)
    if with_id is None:
        project = await project_for_reading(ctx, baseline.project_id)
        milestones = await repository.open_on_project(ctx.session, project.id, ctx.now.date())
        return _compare(_baseline_plan(baseline), _current_plan(project, milestones))
    other = await repository.find_baseline(ctx.session, with_id)
    if other is None:
        raise InvalidInput(
            code="baseline_not_found",
            detail=f"with: no baseline {with_id} exists.",
            errors=[ErrorDetail(("query", "with"), "unknown baseline", "value_error")],
        )
    if other.project_id != baseline.project_id:
        raise InvalidInput(
            code="baseline_of_other_project",
            detail="Baselines are compared only with baselines of the same project.",
            errors=[ErrorDetail(("query", "with"), "a baseline of another project", "value_error")],
        )
    return _compare(_baseline_plan(baseline), _baseline_plan(other))
