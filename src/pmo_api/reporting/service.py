"""Status reports: drafted, edited, then submitted, which freezes them with the
project's figures of that moment and sets the project's health.

Rules:

* A draft may be edited and archived; a submitted report never changes again
  (409 ``status_report_submitted``), so what was reported stays what was reported.
* Submitting freezes the project's figures (percent complete, actual cost, planned
  budget, open risks, overdue milestones) on the report; clients never send them.
* Only the LATEST submitted report of a project sets the project's health: the one
  with the latest period end (then the latest submission). Submitting a report for an
  older period, after a newer one was submitted, records it without touching the
  project's health.
* Two submitted reports of one project may not cover the same day (409
  ``status_report_period_overlap``): each day of a project has at most one account.
* A report's diff compares it with the previous submitted report of its project. A
  submitted report's figures are the frozen ones; a draft's are the project's live
  figures (what submitting it now would freeze), flagged ``live_figures``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict, not_found
from pmo_api.db.records import apply_changes
from pmo_api.events.service import record, save_changes
from pmo_api.events.types import Event, RecordEvent
from pmo_api.projects.declaration import PROJECTS, ProjectRepository
from pmo_api.projects.models import Health, Project
from pmo_api.raid.service import open_risk_counts
from pmo_api.records.declaration import RecordRules
from pmo_api.reporting import repository
from pmo_api.reporting.models import HEALTH_DIMENSIONS, ReportState, StatusReport
from pmo_api.reporting.schemas import (
    CountChange,
    FigureChanges,
    HealthChange,
    HealthChanges,
    HealthTrend,
    MoneyChange,
    StatusReportDiff,
)
from pmo_api.schedule.service import overdue_milestone_counts

ENTITY = "status_report"
FIGURES = ("percent_complete", "actual_cost", "planned_budget", "open_risks", "overdue_milestones")


# -- the project's figures -------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """What a report freezes of its project at submission."""

    percent_complete: int
    actual_cost: Decimal
    planned_budget: Decimal
    open_risks: int
    overdue_milestones: int


async def project_figures(
    ctx: ServiceContext, projects: Sequence[Project]
) -> dict[uuid.UUID, Figures]:
    """The projects' figures now (two statements whatever the number of projects)."""
    ids = [project.id for project in projects]
    risks = await open_risk_counts(ctx, ids)
    overdue = await overdue_milestone_counts(ctx, ids, ctx.now.date())
    return {
        project.id: Figures(
            percent_complete=project.percent_complete,
            actual_cost=project.actual_cost,
            planned_budget=project.planned_budget,
            open_risks=risks.get(project.id, 0),
            overdue_milestones=overdue.get(project.id, 0),
        )
        for project in projects
    }


async def latest_status_reports(
    ctx: ServiceContext, project_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, StatusReport]:
    """Each project's latest submitted report (the one that set its health), in one
    statement; projects without one are absent."""
    reports = await repository.latest_submitted(ctx.session, project_ids)
    return {report.project_id: report for report in reports}


# -- writes ----------------------------------------------------------------------------------


def _refuse_submitted(report: StatusReport) -> None:
    if report.state is ReportState.SUBMITTED:
        raise Conflict(
            code="status_report_submitted",
            detail="The status report is submitted: it can no longer change.",
        )


class StatusReportRules(RecordRules[StatusReport]):
    """A new report is a draft; only a draft changes or is archived."""

    async def creating(self, ctx: ServiceContext, project: Project, values: dict[str, Any]) -> None:
        values["state"] = ReportState.DRAFT

    async def updating(
        self, ctx: ServiceContext, record: StatusReport, values: dict[str, Any]
    ) -> None:
        _refuse_submitted(record)

    async def archiving(self, ctx: ServiceContext, record: StatusReport) -> None:
        _refuse_submitted(record)


ON_SUBMITTED: list[Callable[[ServiceContext, uuid.UUID], Awaitable[None]]] = []
"""Run in a submission's unit of work once the project's health is set, with the
project's id: bound where the domains meet (``control.py``: the history's snapshot)."""


async def submit(
    ctx: ServiceContext, report: StatusReport, project: Project, body: Any, event: RecordEvent
) -> None:
    """Freeze the report with the project's figures; the latest report sets the
    project's health (see the module's rules). The project's row lock (taken by the
    action) serialises the submissions of one project, so "the latest" and
    "overlapping" are decided on a stable set of submitted reports, and the frozen
    figures are the committed ones."""
    _refuse_submitted(report)
    overlap = await repository.overlapping_submitted(
        ctx.session, project.id, report.period_start, report.period_end, report.id
    )
    if overlap is not None:
        raise Conflict(
            code="status_report_period_overlap",
            detail=f"Status report {overlap.id} ({overlap.period_start} to "
            f"{overlap.period_end}) is already submitted for part of this period.",
            extra={"field": "period_start"},
        )
    figures = (await project_figures(ctx, [project]))[project.id]
    values: dict[str, object] = {
        "state": ReportState.SUBMITTED,
        "submitted_by": ctx.principal.name,
        "submitted_by_person_id": ctx.principal.person_id,
        "submitted_at": ctx.now,
        **{name: getattr(figures, name) for name in FIGURES},
    }
    changes = apply_changes(ctx, report, values)
    await ctx.session.flush()
    await record(ctx, Event(event, report.id, changes, report.version))
    if not await repository.submitted_after(ctx.session, report):
        project_changes = apply_changes(ctx, project, {"health": report.overall_health})
        await save_changes(ctx, project, PROJECTS.updated_event, project_changes)
    for hook in ON_SUBMITTED:
        await hook(ctx, project.id)


# -- the diff --------------------------------------------------------------------------------

_RANK = {Health.GREEN: 0, Health.AMBER: 1, Health.RED: 2}


def _health_change(before: Health | None, after: Health) -> HealthChange:
    trend: HealthTrend | None = None
    if before is not None:
        if _RANK[after] < _RANK[before]:
            trend = HealthTrend.IMPROVED
        elif _RANK[after] > _RANK[before]:
            trend = HealthTrend.WORSENED
        else:
            trend = HealthTrend.SAME
    return HealthChange(from_=before, to=after, change=trend)


def _count_change(before: int | None, after: int) -> CountChange:
    return CountChange(from_=before, to=after, delta=None if before is None else after - before)


def _money_change(before: Decimal | None, after: Decimal) -> MoneyChange:
    return MoneyChange(from_=before, to=after, delta=None if before is None else after - before)


def _frozen(report: StatusReport) -> Figures | None:
    if report.state is not ReportState.SUBMITTED:
        return None
    return Figures(
        percent_complete=report.percent_complete or 0,
        actual_cost=report.actual_cost or Decimal("0.00"),
        planned_budget=report.planned_budget or Decimal("0.00"),
        open_risks=report.open_risks or 0,
        overdue_milestones=report.overdue_milestones or 0,
    )


def _diff(report: StatusReport, previous: StatusReport | None, now: Figures) -> StatusReportDiff:
    before = None if previous is None else _frozen(previous)
    health = {
        dimension: _health_change(
            None if previous is None else getattr(previous, f"{dimension}_health"),
            getattr(report, f"{dimension}_health"),
        )
        for dimension in HEALTH_DIMENSIONS
    }

    def counted(name: str) -> CountChange:
        return _count_change(None if before is None else getattr(before, name), getattr(now, name))

    def money(name: str) -> MoneyChange:
        return _money_change(None if before is None else getattr(before, name), getattr(now, name))

    return StatusReportDiff(
        report_id=report.id,
        previous_id=None if previous is None else previous.id,
        live_figures=report.state is not ReportState.SUBMITTED,
        health=HealthChanges(**health),
        figures=FigureChanges(
            percent_complete=counted("percent_complete"),
            actual_cost=money("actual_cost"),
            planned_budget=money("planned_budget"),
            open_risks=counted("open_risks"),
            overdue_milestones=counted("overdue_milestones"),
        ),
    )


async def status_report_diffs(
    ctx: ServiceContext, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, StatusReportDiff]:
    """Each report against the previous submitted report of its project, in a bounded
    number of statements whatever the number of reports (for DataLoaders)."""
    reports = await repository.by_ids(ctx.session, ids)
    previous_ids = await repository.previous_submitted_ids(ctx.session, reports)
    wanted = {found for found in previous_ids.values() if found is not None}
    previous = {row.id: row for row in await repository.by_ids(ctx.session, list(wanted))}
    live: dict[uuid.UUID, Figures] = {}
    drafts = {report.project_id for report in reports if _frozen(report) is None}
    if drafts:
        projects = await ProjectRepository(ctx.session).get_many(list(drafts), ctx.principal)
        live = await project_figures(ctx, projects)
    diffs = {}
    for report in reports:
        now = _frozen(report) or live.get(report.project_id)
        if now is None:  # the project is not visible: neither is the diff
            continue
        before_id = previous_ids.get(report.id)
        diffs[report.id] = _diff(report, None if before_id is None else previous[before_id], now)
    return diffs


async def status_report_diff(ctx: ServiceContext, report_id: uuid.UUID) -> StatusReportDiff:
    """The report against the previous submitted report of its project."""
    found = await status_report_diffs(ctx, [report_id])
    if report_id not in found:
        raise not_found(ENTITY, report_id)
    return found[report_id]
