"""Portfolio rollups: every role reads them (executives and scripts are the audience)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from pmo_api.core.context import ServiceContext
from pmo_api.metrics.repository import MetricsRepository
from pmo_api.metrics.schemas import (
    BaselineRef,
    BudgetFigures,
    EarnedValue,
    PhaseCount,
    PlanVariance,
    PortfolioMetrics,
    ProjectMetrics,
    RiskCounts,
    StatusReportAge,
)
from pmo_api.projects.declaration import PROJECTS
from pmo_api.projects.models import Health, Project, ProjectStatus
from pmo_api.resources import service as resources
from pmo_api.schedule import service as schedule
from pmo_api.schedule.models import Baseline

CENT = Decimal("0.01")


async def portfolio_metrics(
    ctx: ServiceContext, ref: uuid.UUID | str, *, include_sub_portfolios: bool = True
) -> PortfolioMetrics:
    # Every role reads the portfolio structure: no visibility rule to apply here.
    today = ctx.now.date()
    repository = MetricsRepository(None if ctx.reads else ctx.session)
    portfolio, figures = await repository.portfolio_figures(
        ctx.reads, ref, nested=include_sub_portfolios, today=today
    )
    by_status = {status.value: 0 for status in ProjectStatus} | figures.by_status
    by_health = {health.value: 0 for health in Health} | figures.by_health
    planned, actual = figures.planned, figures.actual
    return PortfolioMetrics(
        portfolio_id=portfolio["id"],
        key=portfolio["key"],
        name=portfolio["name"],
        include_sub_portfolios=include_sub_portfolios,
        as_of=today,
        project_count=figures.count,
        by_status=by_status,
        by_health=by_health,
        by_phase=[
            PhaseCount(phase=phase, count=count)
            for phase, count in sorted(
                figures.by_phase.items(), key=lambda kv: (-kv[1], kv[0] or "")
            )
        ],
        budget=BudgetFigures(
            planned=planned.quantize(CENT),
            actual=actual.quantize(CENT),
            variance=(planned - actual).quantize(CENT),
        ),
        open_risks=figures.open_risks,
        open_high_risks=figures.open_high_risks,
        overdue_milestones=figures.overdue_milestones,
    )


THOUSANDTH = Decimal("0.001")


async def project_metrics(ctx: ServiceContext, ref: uuid.UUID | str) -> ProjectMetrics:
    """The project's figures now: variance and earned value against its current baseline,
    open risks by band, overdue milestones, the age of its latest status report."""
    project = await resources.get(ctx, PROJECTS, ref)
    today = ctx.now.date()
    baseline = (
        await schedule.get_baseline(ctx, project.baseline_id)
        if project.baseline_id is not None
        else None
    )
    figures = await MetricsRepository(ctx.session).project_figures(project.id, today)
    report = None
    if figures.latest_report is not None:
        report_id, period_end, submitted_at = figures.latest_report
        report = StatusReportAge(
            latest_id=report_id,
            period_end=period_end,
            submitted_at=submitted_at,
            age_days=(today - period_end).days,
        )
    return ProjectMetrics(
        project_id=project.id,
        key=project.key,
        as_of=today,
        percent_complete=project.percent_complete,
        planned_budget=project.planned_budget,
        actual_cost=project.actual_cost,
        budget_variance=project.planned_budget - project.actual_cost,
        baseline=None
        if baseline is None
        else BaselineRef.model_validate({**_columns(baseline), "captured_at": baseline.created_at}),
        variance=None if baseline is None else _variance(project, baseline),
        earned_value=None if baseline is None else _earned_value(project, baseline, today),
        earned_value_reason=_earned_value_reason(baseline),
        open_risks=RiskCounts(total=sum(figures.open_risks.values()), **figures.open_risks),
        overdue_milestones=figures.overdue_milestones,
        status_report=report,
    )


def _columns(baseline: Baseline) -> dict[str, object]:
    return {
        name: getattr(baseline, name)
        for name in ("id", "name", "planned_start", "planned_end", "planned_budget")
    }


def _days(before: date | None, after: date | None) -> int | None:
    return None if before is None or after is None else (after - before).days


def _variance(project: Project, baseline: Baseline) -> PlanVariance:
    return PlanVariance(
        budget_change=project.planned_budget - baseline.planned_budget,
        start_slip_days=_days(baseline.planned_start, project.planned_start),
        end_slip_days=_days(baseline.planned_end, project.planned_end),
    )


def _earned_value_reason(baseline: Baseline | None) -> str | None:
    if baseline is None:
        return "The project has no current baseline to measure against."
    if baseline.planned_start is None or baseline.planned_end is None:
        return "The current baseline has no planned start and end."
    return None


def _earned_value(project: Project, baseline: Baseline, today: date) -> EarnedValue | None:
    """The standard formulas, ratios kept exact until shown: SPI = EV / PV, CPI = EV /
    AC, EAC = BAC / CPI (= BAC x AC / EV), ETC = EAC - AC, VAC = BAC - EAC; money to
    the cent, ratios to 3 decimals, only as shown. A figure that cannot be computed is
    null, and ``reasons`` says why."""
    start, end = baseline.planned_start, baseline.planned_end
    if start is None or end is None:
        return None
    bac = baseline.planned_budget
    duration = max((end - start).days, 1)
    elapsed = min(max((today - start).days, 0), duration)
    pv = (bac * elapsed / duration).quantize(CENT)
    ev = (bac * project.percent_complete / 100).quantize(CENT)
    ac = project.actual_cost
    reasons: dict[str, str] = {}
    spi = cpi = eac = None
    if pv == 0:
        reasons["spi"] = "Nothing is planned yet (planned value 0): the baseline starts later."
    else:
        spi = ev / pv
    if ac == 0:
        reasons["cpi"] = "No cost is recorded yet (actual cost 0)."
    else:
        cpi = ev / ac
    if ac == 0:
        why = "No cost is recorded yet (actual cost 0): there is no CPI to project with."
    elif ev == 0:
        why = "Nothing is earned yet (earned value 0): CPI is 0, the cost has no end."
    else:
        eac, why = (bac * ac / ev).quantize(CENT), ""
    if eac is None:
        for name in ("estimate_at_completion", "estimate_to_complete", "variance_at_completion"):
            reasons[name] = why
    return EarnedValue(
        budget_at_completion=bac,
        planned_value=pv,
        earned_value=ev,
        actual_cost=ac,
        schedule_variance=ev - pv,
        cost_variance=ev - ac,
        spi=None if spi is None else float(spi.quantize(THOUSANDTH)),
        cpi=None if cpi is None else float(cpi.quantize(THOUSANDTH)),
        estimate_at_completion=eac,
        estimate_to_complete=None if eac is None else eac - ac,
        variance_at_completion=None if eac is None else bac - eac,
        reasons=reasons,
    )
