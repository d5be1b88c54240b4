"""Portfolio rollups: every role reads them (executives and scripts are the audience)."""

from __future__ import annotations

import asyncio
import enum
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import true

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import InvalidInput
from pmo_api.db.reads import PostgresReads, SessionReads
from pmo_api.metrics import history
from pmo_api.metrics.repository import MetricsRepository, PortfolioFigures
from pmo_api.metrics.rollup import RollupExtras, rollup_extras
from pmo_api.metrics.schemas import (
    BaselineRef,
    BudgetFigures,
    ComplianceFigures,
    EarnedValue,
    HistoryPoint,
    ObjectiveShare,
    OrganisationMetrics,
    PhaseCount,
    PlanVariance,
    PortfolioHistory,
    PortfolioMetrics,
    ProjectBrief,
    ProjectMetrics,
    RiskCounts,
    RollupCompliance,
    RollupValue,
    StatusReportAge,
    TopRisk,
    Unaligned,
)
from pmo_api.projects.declaration import PROJECTS
from pmo_api.projects.models import Health, Project, ProjectStatus
from pmo_api.resources import service as resources
from pmo_api.schedule import service as schedule
from pmo_api.schedule.models import Baseline
from pmo_api.standards.compliance import RuleCounts, rule_counts

CENT = Decimal("0.01")
THOUSANDTH = Decimal("0.001")
TEN_THOUSANDTH = Decimal("0.0001")


def _ratio(part: Decimal, whole: Decimal) -> float | None:
    return None if whole == 0 else float((part / whole).quantize(THOUSANDTH, ROUND_HALF_UP))


def _share(part: Decimal, whole: Decimal) -> float | None:
    return None if whole == 0 else float((part / whole).quantize(TEN_THOUSANDTH, ROUND_HALF_UP))


def _rollup_value(measured: int, pv: Decimal, ev: Decimal, ac: Decimal) -> RollupValue:
    reasons: dict[str, str] = {}
    if measured == 0:
        why = "No project in scope has a current baseline with planned start and end."
        reasons = {"spi": why, "cpi": why}
    else:
        if pv == 0:
            reasons["spi"] = "Nothing is planned yet (planned value 0)."
        if ac == 0:
            reasons["cpi"] = "No cost is recorded yet (actual cost 0)."
    return RollupValue(
        projects_measured=measured,
        planned_value=pv.quantize(CENT),
        earned_value=ev.quantize(CENT),
        actual_cost=ac.quantize(CENT),
        spi=_ratio(ev, pv),
        cpi=_ratio(ev, ac),
        reasons=reasons,
    )


def _budget(planned: Decimal, actual: Decimal) -> BudgetFigures:
    return BudgetFigures(
        planned=planned.quantize(CENT),
        actual=actual.quantize(CENT),
        variance=(planned - actual).quantize(CENT),
    )


def _phases(by_phase: dict[str | None, int]) -> list[PhaseCount]:
    return [
        PhaseCount(phase=phase, count=count)
        for phase, count in sorted(by_phase.items(), key=lambda kv: (-kv[1], kv[0] or ""))
    ]


def _when(ctx: ServiceContext, as_of: date | None) -> date | None:
    """The day to answer from the history, or None for now (no ``as_of``, or today's)."""
    today = ctx.now.date()
    if as_of is None or as_of == today:
        return None
    if as_of > today:
        raise InvalidInput(
            code="as_of_in_future",
            detail=f"as_of {as_of} is after today ({today}): there are no figures yet.",
            extra={"field": "as_of"},
        )
    return as_of


ROLLUP_FIGURES: dict[str, frozenset[str]] = {
    "project_count": frozenset({"groups"}),
    "by_status": frozenset({"groups"}),
    "by_health": frozenset({"groups"}),
    "by_phase": frozenset({"groups"}),
    "budget": frozenset({"groups"}),
    "open_risks": frozenset({"groups"}),
    "open_high_risks": frozenset({"groups"}),
    "overdue_milestones": frozenset({"groups"}),
    "earned_value": frozenset({"groups"}),
    "compliance": frozenset({"groups"}),
    "top_risks": frozenset({"top"}),
    "red_projects": frozenset({"red"}),
    "objectives": frozenset({"objectives", "groups"}),
    "unaligned": frozenset({"groups"}),
}
"""A rollup's figures (asked for with ``fields``) and the statements each needs:
``groups`` (``MetricsRepository.figures``) and ``rollup.EXTRAS``'s."""


def _fields(fields: str | None) -> tuple[str, ...]:
    """The figures asked for (``fields=budget,by_health``; all when none is named);
    an unknown name is a 422 ``unknown_field`` naming the known ones."""
    if fields is None:
        return tuple(ROLLUP_FIGURES)
    names = tuple(dict.fromkeys(name.strip() for name in fields.split(",") if name.strip()))
    unknown = [name for name in names if name not in ROLLUP_FIGURES]
    if unknown or not names:
        raise InvalidInput(
            code="unknown_field",
            detail=f"fields names {', '.join(unknown) or 'nothing'}: the figures are "
            f"{', '.join(ROLLUP_FIGURES)}.",
            extra={"field": "fields"},
        )
    return names


async def _live_rollup(
    ctx: ServiceContext,
    repository: MetricsRepository,
    ids: list[uuid.UUID] | None,
    names: tuple[str, ...],
) -> dict[str, Any]:
    today = ctx.now.date()
    reads = ctx.reads or SessionReads(ctx.session)
    parts = frozenset().union(*(ROLLUP_FIGURES[name] for name in names))
    figures = PortfolioFigures()
    if isinstance(reads, PostgresReads):  # side by side on the pool
        if "groups" in parts:
            figures, extras = await asyncio.gather(
                repository.figures(reads, ids, today=today),
                rollup_extras(reads, ids, today, parts),
            )
        else:
            extras = await rollup_extras(reads, ids, today, parts)
    else:
        if "groups" in parts:
            figures = await repository.figures(reads, ids, today=today)
        extras = await rollup_extras(reads, ids, today, parts)
    planned = figures.planned
    shown: dict[str, Any] = {"as_of": today, "from_history": False}
    for name in names:
        shown[name] = _live_figure(name, figures, extras, planned)
    return shown


def _live_figure(
    name: str, figures: PortfolioFigures, extras: RollupExtras, planned: Decimal
) -> Any:
    if name == "project_count":
        return figures.count
    if name == "by_status":
        return {status.value: 0 for status in ProjectStatus} | figures.by_status
    if name == "by_health":
        return {health.value: 0 for health in Health} | figures.by_health
    if name == "by_phase":
        return _phases(figures.by_phase)
    if name == "budget":
        return _budget(planned, figures.actual)
    if name in ("open_risks", "open_high_risks", "overdue_milestones"):
        return getattr(figures, name)
    if name == "earned_value":
        return _rollup_value(
            figures.measured, figures.planned_value, figures.earned_value, figures.measured_cost
        )
    if name == "compliance":
        looked = figures.last_look
        return RollupCompliance(
            rate=RuleCounts(figures.rules_passed, figures.rules_failed).rate,
            passed=figures.rules_passed,
            failed=figures.rules_failed,
            projects_judged=figures.judged,
            judged_at=None if looked is None else datetime.fromisoformat(looked),
        )
    if name == "top_risks":
        return [TopRisk.model_validate(row) for row in extras.top_risks]
    if name == "red_projects":
        return [ProjectBrief.model_validate(row) for row in extras.red_projects]
    if name == "objectives":
        return [
            ObjectiveShare(
                objective_id=row["id"],
                key=row["key"],
                title=row["title"],
                weight=row["weight"],
                projects=row["projects"],
                planned_budget=Decimal(row["planned"]).quantize(CENT),
                actual_cost=Decimal(row["actual"]).quantize(CENT),
                share_of_budget=_share(Decimal(row["planned"]), planned),
            )
            for row in extras.objectives
        ]
    assert name == "unaligned", name
    return Unaligned(
        projects=figures.unaligned,
        planned_budget=figures.unaligned_planned.quantize(CENT),
        actual_cost=figures.unaligned_actual.quantize(CENT),
        share_of_budget=_share(figures.unaligned_planned, planned),
    )


async def _past_rollup(
    ctx: ServiceContext, ids: list[uuid.UUID] | None, as_of: date
) -> dict[str, Any]:
    reads = ctx.reads or SessionReads(ctx.session)
    history.refuse_before_history(as_of, await history.first_day(reads))
    rows = await history.groups_as_of(reads, ids, as_of)
    by_status = {status.value: 0 for status in ProjectStatus}
    by_health = {health.value: 0 for health in Health}
    by_phase: dict[str | None, int] = {}
    totals: dict[str, Any] = defaultdict(lambda: Decimal(0))
    for row in rows:
        count = row["projects"]
        by_status[row["status"]] = by_status.get(row["status"], 0) + count
        by_health[row["health"]] = by_health.get(row["health"], 0) + count
        by_phase[row["phase"]] = by_phase.get(row["phase"], 0) + count
        for name in _SUMMED:
            totals[name] += Decimal(row[name])
    passed, failed = int(totals["passed"]), int(totals["failed"])
    return {
        "as_of": as_of,
        "from_history": True,
        "project_count": int(totals["projects"]),
        "by_status": by_status,
        "by_health": by_health,
        "by_phase": _phases(by_phase),
        "budget": _budget(totals["planned_budget"], totals["actual_cost"]),
        "earned_value": _rollup_value(
            int(totals["measured"]),
            totals["planned_value"],
            totals["earned_value"],
            totals["measured_cost"],
        ),
        "compliance": RollupCompliance(
            rate=RuleCounts(passed, failed).rate,
            passed=passed,
            failed=failed,
            projects_judged=int(totals["projects"]),
            judged_at=None,
        ),
        "open_risks": None,
        "open_high_risks": None,
        "overdue_milestones": None,
        "top_risks": None,
        "red_projects": None,
        "objectives": None,
        "unaligned": None,
    }


_SUMMED = (
    "projects",
    "planned_budget",
    "actual_cost",
    "measured",
    "planned_value",
    "earned_value",
    "measured_cost",
    "passed",
    "failed",
)


async def portfolio_metrics(
    ctx: ServiceContext,
    ref: uuid.UUID | str,
    *,
    include_sub_portfolios: bool = True,
    as_of: date | None = None,
    fields: str | None = None,
) -> PortfolioMetrics:
    """A portfolio's rollup now, or as it stood at the end of ``as_of`` (from the
    history, the projects counted in the portfolio they were in that day); with
    ``fields``, only the figures named (the others are not computed, nor shown)."""
    names = _fields(fields)
    # Every role reads the portfolio structure: no visibility rule to apply here.
    day = _when(ctx, as_of)
    repository = MetricsRepository(None if ctx.reads else ctx.session)
    portfolio, ids = await repository.portfolio_tree(ctx.reads, ref, nested=include_sub_portfolios)
    figures = (
        await _live_rollup(ctx, repository, ids, names)
        if day is None
        else _only(await _past_rollup(ctx, ids, day), names)
    )
    return PortfolioMetrics.model_construct(
        portfolio_id=portfolio["id"],
        key=portfolio["key"],
        name=portfolio["name"],
        include_sub_portfolios=include_sub_portfolios,
        **figures,
    )


async def organisation_metrics(
    ctx: ServiceContext, *, as_of: date | None = None, fields: str | None = None
) -> OrganisationMetrics:
    """Every live project rolled up: the executive's summary (``fields``: as for a
    portfolio)."""
    names = _fields(fields)
    day = _when(ctx, as_of)
    repository = MetricsRepository(None if ctx.reads else ctx.session)
    if day is not None:
        return OrganisationMetrics.model_construct(
            **_only(await _past_rollup(ctx, None, day), names)
        )
    # Every portfolio's projects: the same statements as a portfolio tree's, which read
    # the live projects by portfolio from their covering index (a scan of every project
    # row, as "all live projects" is planned, reads the whole table).
    ids = await repository.portfolio_ids(ctx.reads)
    return OrganisationMetrics.model_construct(**await _live_rollup(ctx, repository, ids, names))


def _only(figures: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The figures named, with the day and where they come from."""
    kept = {"as_of", "from_history", *names}
    return {name: value for name, value in figures.items() if name in kept}


async def project_metrics(
    ctx: ServiceContext, ref: uuid.UUID | str, *, as_of: date | None = None
) -> ProjectMetrics:
    """The project's figures now: variance and earned value against its current baseline,
    open risks by band, overdue milestones, the age of its latest status report, the
    rules in force judged; or as they stood at the end of ``as_of`` (its history)."""
    project = await resources.get(ctx, PROJECTS, ref)
    day = _when(ctx, as_of)
    if day is not None:
        return await _project_as_of(ctx, project, day)
    today = ctx.now.date()
    baseline = (
        await schedule.get_baseline(ctx, project.baseline_id)
        if project.baseline_id is not None
        else None
    )
    figures = await MetricsRepository(ctx.session).project_figures(project.id, today)
    counts = await rule_counts(SessionReads(ctx.session), Project.id == project.id, today)
    report = None
    if figures.latest_report is not None:
        report_id, period_end, submitted_at = figures.latest_report
        report = StatusReportAge(
            latest_id=report_id,
            period_end=period_end,
            submitted_at=submitted_at,
            age_days=(today - period_end).days,
        )
    measured = baseline is not None and _earned_value_reason(baseline) is None
    return ProjectMetrics(
        project_id=project.id,
        key=project.key,
        as_of=today,
        status=project.status,
        phase=project.phase,
        health=project.health,
        percent_complete=project.percent_complete,
        planned_budget=project.planned_budget,
        actual_cost=project.actual_cost,
        budget_variance=project.planned_budget - project.actual_cost,
        baseline=None
        if baseline is None
        else BaselineRef.model_validate({**_columns(baseline), "captured_at": baseline.created_at}),
        variance=None if baseline is None else _variance(project, baseline),
        earned_value=(
            _earned_value(
                baseline.planned_budget,
                _planned_value(baseline, today),
                (baseline.planned_budget * project.percent_complete / 100).quantize(
                    CENT, ROUND_HALF_UP
                ),
                project.actual_cost,
            )
            if baseline is not None and measured
            else None
        ),
        earned_value_reason=_earned_value_reason(baseline),
        compliance=ComplianceFigures(rate=counts.rate, passed=counts.passed, failed=counts.failed),
        open_risks=RiskCounts(total=sum(figures.open_risks.values()), **figures.open_risks),
        overdue_milestones=figures.overdue_milestones,
        status_report=report,
    )


async def _project_as_of(ctx: ServiceContext, project: Project, day: date) -> ProjectMetrics:
    reads = SessionReads(ctx.session)
    history.refuse_before_history(day, await history.first_day(reads, project.id))
    shot = await history.project_as_of(reads, project.id, day)
    assert shot is not None  # on or after its first snapshot
    bac, pv, ev = shot["budget_at_completion"], shot["planned_value"], shot["earned_value"]
    passed, failed = shot["rules_passed"], shot["rules_failed"]
    return ProjectMetrics(
        project_id=project.id,
        key=project.key,
        as_of=day,
        from_history=True,
        status=shot["status"],
        phase=shot["phase"],
        health=shot["health"],
        percent_complete=shot["percent_complete"],
        planned_budget=shot["planned_budget"],
        actual_cost=shot["actual_cost"],
        budget_variance=shot["planned_budget"] - shot["actual_cost"],
        baseline=None,
        variance=None,
        earned_value=None if bac is None else _earned_value(bac, pv, ev, shot["actual_cost"]),
        earned_value_reason=None
        if bac is not None
        else "The project had no current baseline with planned start and end that day.",
        compliance=ComplianceFigures(
            rate=RuleCounts(passed, failed).rate, passed=passed, failed=failed
        ),
        open_risks=None,
        overdue_milestones=None,
        status_report=None,
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


def _planned_value(baseline: Baseline, today: date) -> Decimal:
    """BAC x the share of the baseline's duration elapsed today (0 to 1), to the cent."""
    start, end = baseline.planned_start, baseline.planned_end
    assert start is not None and end is not None
    duration = max((end - start).days, 1)
    elapsed = min(max((today - start).days, 0), duration)
    return (baseline.planned_budget * elapsed / duration).quantize(CENT, ROUND_HALF_UP)


def _earned_value(bac: Decimal, pv: Decimal, ev: Decimal, ac: Decimal) -> EarnedValue:
    """The standard formulas, ratios kept exact until shown: SPI = EV / PV, CPI = EV /
    AC, EAC = BAC / CPI (= BAC x AC / EV), ETC = EAC - AC, VAC = BAC - EAC; money to
    the cent, ratios to 3 decimals, only as shown. A figure that cannot be computed is
    null, and ``reasons`` says why."""
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
        eac, why = (bac * ac / ev).quantize(CENT, ROUND_HALF_UP), ""
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
        spi=None if spi is None else float(spi.quantize(THOUSANDTH, ROUND_HALF_UP)),
        cpi=None if cpi is None else float(cpi.quantize(THOUSANDTH, ROUND_HALF_UP)),
        estimate_at_completion=eac,
        estimate_to_complete=None if eac is None else eac - ac,
        variance_at_completion=None if eac is None else bac - eac,
        reasons=reasons,
    )


# -- the history -------------------------------------------------------------------------------


class Interval(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


DEFAULT_SPAN = {Interval.DAY: 30, Interval.WEEK: 7 * 12, Interval.MONTH: 365}
"""Days a series reaches back by default: 30 days, 12 weeks, a year."""


async def portfolio_history(
    ctx: ServiceContext,
    ref: uuid.UUID | str,
    *,
    start: date | None = None,
    end: date | None = None,
    interval: Interval = Interval.WEEK,
    include_sub_portfolios: bool = True,
) -> PortfolioHistory:
    """A portfolio's figures at the end of each interval from ``start`` to ``end``."""
    end = end or ctx.now.date()
    start = start or end - timedelta(days=DEFAULT_SPAN[interval] - 1)
    if start > end:
        raise InvalidInput(
            code="invalid_range",
            detail=f"from ({start}) is after to ({end}).",
            extra={"field": "from"},
        )
    buckets = history.points(start, end, interval.value)
    repository = MetricsRepository(None if ctx.reads else ctx.session)
    portfolio, ids = await repository.portfolio_tree(ctx.reads, ref, nested=include_sub_portfolios)
    reads = ctx.reads or SessionReads(ctx.session)
    found = await history.series(reads, ids, buckets)
    first = await history.first_day(reads)
    return PortfolioHistory(
        portfolio_id=portfolio["id"],
        key=portfolio["key"],
        name=portfolio["name"],
        include_sub_portfolios=include_sub_portfolios,
        interval=interval.value,
        start=start,
        end=end,
        first_snapshot=first,
        points=[_point(bucket, found.get(bucket.end)) for bucket in buckets],
    )


def _point(bucket: history.Point, row: dict[str, Any] | None) -> HistoryPoint:
    if row is None:
        return HistoryPoint(
            period_start=bucket.start,
            as_of=bucket.end,
            project_count=0,
            by_health={health.value: 0 for health in Health},
            planned_budget=Decimal(0).quantize(CENT),
            actual_cost=Decimal(0).quantize(CENT),
            planned_value=Decimal(0).quantize(CENT),
            earned_value=Decimal(0).quantize(CENT),
            spi=None,
            cpi=None,
            compliance_rate=None,
            percent_complete=None,
        )
    pv, ev = Decimal(row["planned_value"]), Decimal(row["earned_value"])
    measured_cost = Decimal(row["measured_cost"])
    passed, failed = int(row["passed"]), int(row["failed"])
    average = row["percent_complete"]
    return HistoryPoint(
        period_start=bucket.start,
        as_of=bucket.end,
        project_count=row["projects"],
        by_health={health.value: int(row[health.value]) for health in Health},
        planned_budget=Decimal(row["planned_budget"]).quantize(CENT),
        actual_cost=Decimal(row["actual_cost"]).quantize(CENT),
        planned_value=pv.quantize(CENT),
        earned_value=ev.quantize(CENT),
        spi=_ratio(ev, pv),
        cpi=_ratio(ev, measured_cost),
        compliance_rate=RuleCounts(passed, failed).rate,
        percent_complete=None if average is None else round(float(average), 1),
    )


async def snapshot(ctx: ServiceContext) -> int:
    """Snapshot every live project as of now (``pmo-api snapshot``): once per day per
    project however often it runs (again the same day brings the day's up to date)."""
    return await history.take(ctx.session, true(), ctx.now)


async def snapshot_project(ctx: ServiceContext, project_id: uuid.UUID) -> None:
    """Snapshot one project in the unit of work that changed it (a status report
    submitted): its figures as they stand after the change."""
    await ctx.session.flush()
    await history.take(ctx.session, Project.id == project_id, ctx.now)
