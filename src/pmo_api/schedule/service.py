"""A project's schedule: milestones (with the derived ``overdue``), deliverables (with
their acceptance) and baselines (immutable captures of the plan, and their comparison).

Every write goes through ``project_for_writing`` (object rules, archived project) and
records one event; services never commit.
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
from pmo_api.core.pagination import ListParams, Page
from pmo_api.db.records import apply_changes, refuse_archived
from pmo_api.events.types import EventType
from pmo_api.projects.control import (
    add_record,
    archive_project_record,
    list_project_records,
    project_for_reading,
    project_for_writing,
    project_record_pages,
    record_for_writing,
    save_changes,
)
from pmo_api.projects.models import Project
from pmo_api.schedule.models import (
    Baseline,
    Deliverable,
    DeliverableStatus,
    Milestone,
    MilestoneStatus,
)
from pmo_api.schedule.repository import (
    BaselineRepository,
    DeliverableRepository,
    MilestoneRepository,
)
from pmo_api.schedule.schemas import (
    BaselineComparison,
    BaselineCreate,
    BaselineDateChange,
    BaselineFilter,
    BaselineMilestone,
    BaselineMilestoneChanges,
    BaselineMilestoneMove,
    BaselineMoneyChange,
    BaselinePlan,
    BaselinePlanChanges,
    DeliverableCreate,
    DeliverableFilter,
    DeliverableUpdate,
    MilestoneCreate,
    MilestoneFilter,
    MilestoneUpdate,
)

ProjectRef = uuid.UUID | str


def _milestones(ctx: ServiceContext) -> MilestoneRepository:
    return MilestoneRepository(ctx.session, ctx.now.date())


def _invalid(code: str, field: str, detail: str, msg: str) -> InvalidInput:
    return InvalidInput(
        code=code, detail=detail, errors=[ErrorDetail(("body", field), msg, "value_error")]
    )


# -- milestones ------------------------------------------------------------------------------


async def get_milestone(ctx: ServiceContext, milestone_id: uuid.UUID) -> Milestone:
    return await _milestones(ctx).require(milestone_id, ctx.principal)


async def get_milestones(ctx: ServiceContext, ids: Sequence[uuid.UUID]) -> list[Milestone]:
    return await _milestones(ctx).get_many(ids, ctx.principal)


async def list_milestones(
    ctx: ServiceContext, project_ref: ProjectRef, filters: MilestoneFilter, params: ListParams
) -> Page[Milestone]:
    repository = _milestones(ctx)
    return await list_project_records(
        ctx, repository, project_ref, filters, params, default_sort=repository.default_sort
    )


async def milestone_pages(
    ctx: ServiceContext,
    project_ids: Sequence[uuid.UUID],
    filters: MilestoneFilter,
    params: ListParams,
) -> dict[uuid.UUID, Page[Milestone]]:
    """The first page of each project's milestones, in one statement."""
    repository = _milestones(ctx)
    return await project_record_pages(
        ctx,
        repository,
        project_ids,
        params,
        default_sort=repository.default_sort,
        filters=filters,
        narrow=lambda stmt: repository.filtered(stmt, filters),
    )


async def overdue_milestone_counts(
    ctx: ServiceContext, project_ids: Sequence[uuid.UUID], today: date
) -> dict[uuid.UUID, int]:
    """How many milestones of each project are overdue on ``today`` (one statement)."""
    return await MilestoneRepository(ctx.session, today).overdue_counts(project_ids)


async def next_milestones(
    ctx: ServiceContext, project_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Milestone]:
    """Each project's earliest-due milestone still open (one statement); projects
    without one are absent."""
    return await _milestones(ctx).next_by_project(project_ids)


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


async def create_milestone(
    ctx: ServiceContext, project_ref: ProjectRef, data: MilestoneCreate
) -> Milestone:
    project = await project_for_writing(ctx, project_ref)
    values = data.model_dump()
    _settle_done_date(ctx, values, data.status, data.done_date)
    milestone = await add_record(ctx, Milestone, project, EventType.MILESTONE_CREATED, values)
    return await _milestones(ctx).reload(milestone)


async def update_milestone(
    ctx: ServiceContext,
    milestone_id: uuid.UUID,
    patch: MilestoneUpdate,
    expected_version: int | None,
) -> Milestone:
    milestone = await get_milestone(ctx, milestone_id)
    await record_for_writing(ctx, "milestone", milestone, expected_version)
    refuse_archived("milestone", milestone)
    values = patch.changes()
    _settle_done_date(
        ctx,
        values,
        values.get("status", milestone.status),
        values.get("done_date", milestone.done_date),
    )
    changes = apply_changes(ctx, milestone, values)
    await save_changes(ctx, milestone, EventType.MILESTONE_UPDATED, changes)
    return await _milestones(ctx).reload(milestone)


async def archive_milestone(
    ctx: ServiceContext, milestone_id: uuid.UUID, expected_version: int | None
) -> Milestone:
    milestone = await get_milestone(ctx, milestone_id)
    await record_for_writing(ctx, "milestone", milestone, expected_version)
    await archive_project_record(ctx, "milestone", milestone, EventType.MILESTONE_ARCHIVED)
    return await _milestones(ctx).reload(milestone)


# -- deliverables ----------------------------------------------------------------------------


async def get_deliverable(ctx: ServiceContext, deliverable_id: uuid.UUID) -> Deliverable:
    return await DeliverableRepository(ctx.session).require(deliverable_id, ctx.principal)


async def get_deliverables(ctx: ServiceContext, ids: Sequence[uuid.UUID]) -> list[Deliverable]:
    return await DeliverableRepository(ctx.session).get_many(ids, ctx.principal)


async def list_deliverables(
    ctx: ServiceContext, project_ref: ProjectRef, filters: DeliverableFilter, params: ListParams
) -> Page[Deliverable]:
    repository = DeliverableRepository(ctx.session)
    return await list_project_records(
        ctx, repository, project_ref, filters, params, default_sort=repository.default_sort
    )


async def deliverable_pages(
    ctx: ServiceContext,
    project_ids: Sequence[uuid.UUID],
    filters: DeliverableFilter,
    params: ListParams,
) -> dict[uuid.UUID, Page[Deliverable]]:
    repository = DeliverableRepository(ctx.session)
    return await project_record_pages(
        ctx,
        repository,
        project_ids,
        params,
        default_sort=repository.default_sort,
        filters=filters,
        narrow=lambda stmt: repository.filtered(stmt, filters),
    )


def _acceptance(ctx: ServiceContext, status: DeliverableStatus) -> dict[str, Any]:
    """Who accepted and when: the caller and now when accepted; nobody otherwise."""
    if status is DeliverableStatus.ACCEPTED:
        return {
            "accepted_by": ctx.principal.name,
            "accepted_by_person_id": ctx.principal.person_id,
            "accepted_at": ctx.now,
        }
    return {"accepted_by": None, "accepted_by_person_id": None, "accepted_at": None}


async def create_deliverable(
    ctx: ServiceContext, project_ref: ProjectRef, data: DeliverableCreate
) -> Deliverable:
    project = await project_for_writing(ctx, project_ref)
    values = {**data.model_dump(), **_acceptance(ctx, data.status)}
    return await add_record(ctx, Deliverable, project, EventType.DELIVERABLE_CREATED, values)


async def update_deliverable(
    ctx: ServiceContext,
    deliverable_id: uuid.UUID,
    patch: DeliverableUpdate,
    expected_version: int | None,
) -> Deliverable:
    deliverable = await get_deliverable(ctx, deliverable_id)
    await record_for_writing(ctx, "deliverable", deliverable, expected_version)
    refuse_archived("deliverable", deliverable)
    values = patch.changes()
    status = values.get("status", deliverable.status)
    if status is not deliverable.status:
        # Acceptance is recorded by the service, never sent: a new status sets or clears it.
        values.update(_acceptance(ctx, status))
    changes = apply_changes(ctx, deliverable, values)
    await save_changes(ctx, deliverable, EventType.DELIVERABLE_UPDATED, changes)
    return deliverable


async def archive_deliverable(
    ctx: ServiceContext, deliverable_id: uuid.UUID, expected_version: int | None
) -> Deliverable:
    deliverable = await get_deliverable(ctx, deliverable_id)
    await record_for_writing(ctx, "deliverable", deliverable, expected_version)
    await archive_project_record(ctx, "deliverable", deliverable, EventType.DELIVERABLE_ARCHIVED)
    return deliverable


# -- baselines -------------------------------------------------------------------------------


async def get_baseline(ctx: ServiceContext, baseline_id: uuid.UUID) -> Baseline:
    return await BaselineRepository(ctx.session).require(baseline_id, ctx.principal)


async def get_baselines(ctx: ServiceContext, ids: Sequence[uuid.UUID]) -> list[Baseline]:
    return await BaselineRepository(ctx.session).get_many(ids, ctx.principal)


async def list_baselines(
    ctx: ServiceContext, project_ref: ProjectRef, filters: BaselineFilter, params: ListParams
) -> Page[Baseline]:
    repository = BaselineRepository(ctx.session)
    return await list_project_records(
        ctx, repository, project_ref, filters, params, default_sort=repository.default_sort
    )


async def baseline_pages(
    ctx: ServiceContext,
    project_ids: Sequence[uuid.UUID],
    filters: BaselineFilter,
    params: ListParams,
) -> dict[uuid.UUID, Page[Baseline]]:
    repository = BaselineRepository(ctx.session)
    return await project_record_pages(
        ctx,
        repository,
        project_ids,
        params,
        default_sort=repository.default_sort,
        filters=filters,
        narrow=lambda stmt: repository.filtered(stmt, filters),
    )


def _captured(milestones: Sequence[Milestone]) -> list[dict[str, Any]]:
    return [
        BaselineMilestone(id=m.id, name=m.name, due_date=m.due_date, status=m.status).model_dump(
            mode="json"
        )
        for m in milestones
    ]


async def capture_baseline(
    ctx: ServiceContext, project_ref: ProjectRef, data: BaselineCreate
) -> Baseline:
    """Record the project's plan as it stands (dates, budget, milestones) and make it
    the project's current baseline. A baseline never changes afterwards."""
    # The row lock keeps the captured plan and the current baseline consistent with a
    # concurrent capture or plan change.
    project = await project_for_writing(ctx, project_ref, lock=True)
    milestones = await _milestones(ctx).open_on_project(project.id)
    values = {
        **data.model_dump(),
        "planned_start": project.planned_start,
        "planned_end": project.planned_end,
        "planned_budget": project.planned_budget,
        "milestones": _captured(milestones),
        "captured_by": ctx.principal.name,
        "captured_by_person_id": ctx.principal.person_id,
    }
    baseline = await add_record(ctx, Baseline, project, EventType.BASELINE_CAPTURED, values)
    changes = apply_changes(ctx, project, {"baseline_id": baseline.id})
    await save_changes(ctx, project, EventType.PROJECT_UPDATED, changes)
    return baseline


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
    repository = BaselineRepository(ctx.session)
    baseline = await repository.require(baseline_id, ctx.principal)
    if with_id is None:
        project = await project_for_reading(ctx, baseline.project_id)
        milestones = await _milestones(ctx).open_on_project(project.id)
        return _compare(_baseline_plan(baseline), _current_plan(project, milestones))
    other = await repository.get(with_id, ctx.principal)
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
