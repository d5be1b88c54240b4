from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from pmo_api.core.schemas import Day, Money, Read, SignedMoney


class BudgetFigures(Read):
    planned: Money
    actual: Money
    variance: SignedMoney = Field(description="planned - actual: negative when over budget.")


class PhaseCount(Read):
    phase: str | None = Field(description="null for projects with no phase set.")
    count: int


class RollupValue(Read):
    """Earned value summed over the projects it can be measured on (a current baseline
    with planned start and end): SPI = sum EV / sum PV, CPI = sum EV / sum AC."""

    projects_measured: int
    planned_value: Money
    earned_value: Money
    actual_cost: Money = Field(description="Actual cost of the projects measured.")
    spi: float | None = Field(description="sum EV / sum PV, 3 decimals.")
    cpi: float | None = Field(description="sum EV / sum AC, 3 decimals.")
    reasons: dict[str, str] = Field(
        default_factory=dict, description="Why each figure that is null is null, by its name."
    )


class TopRisk(Read):
    id: uuid.UUID
    title: str
    score: int
    probability: int
    impact: int
    status: str
    project_id: uuid.UUID
    project_key: str


class ProjectBrief(Read):
    id: uuid.UUID
    key: str
    name: str
    phase: str | None
    manager_id: uuid.UUID | None


class ComplianceFigures(Read):
    """Every rule in force judged on every live project in scope."""

    rate: float | None = Field(
        description="Rules passed of rules applicable (passed or failed), 4 decimals; "
        "null when no rule applies."
    )
    passed: int
    failed: int


class RollupCompliance(ComplianceFigures):
    """The rules in force, as the compliance watch last judged the live projects in scope
    (it judges every project every ``PMO_COMPLIANCE_WATCH_SECONDS``, or when
    ``pmo-api compliance watch`` runs); a project's own metrics and ``/compliance``
    judge it live. From the history (as_of): as the day's snapshots judged them."""

    projects_judged: int = Field(description="Projects in scope with a verdict.")
    judged_at: datetime | None = Field(
        description="When the watch last looked; null before its first look (and from the history)."
    )


class ObjectiveShare(Read):
    """The live projects in scope that contribute to an objective (contribution >= 1)."""

    objective_id: uuid.UUID
    key: str
    title: str
    weight: int
    projects: int
    planned_budget: Money
    actual_cost: Money
    share_of_budget: float | None = Field(
        description="Their planned budget over the scope's, 4 decimals (a project aligned "
        "to several objectives counts in each)."
    )


class Unaligned(Read):
    """The live projects in scope aligned to no objective."""

    projects: int
    planned_budget: Money
    actual_cost: Money = Field(description="Unaligned spend.")
    share_of_budget: float | None = Field(description="Of the scope's planned budget.")


_SHOWN = "Shown unless `fields` names other figures."
_LEFT_OUT: Any = None
"""The default of a figure ``fields`` left out: never shown (a rollup is dumped with
``exclude_unset``); it makes the figure optional in the schema, as it is in the answer."""


class RollupMetrics(Read):
    """Live projects (not archived) rolled up: now, or as they stood at the end of a day
    from the history (``as_of``)."""

    as_of: Day = Field(description="The day the figures are of (UTC).")
    from_history: bool = Field(
        default=False,
        description="True when answered from the history (as_of before today): the "
        "figures the history keeps, and null for the others.",
    )
    # Every figure is shown unless ``fields`` names others: none is required.
    project_count: int = Field(default=_LEFT_OUT, description=_SHOWN)
    by_status: dict[str, int] = Field(
        default=_LEFT_OUT, description="Every project status, zero included. " + _SHOWN
    )
    by_health: dict[str, int] = Field(
        default=_LEFT_OUT, description="green, amber and red, zero included. " + _SHOWN
    )
    by_phase: list[PhaseCount] = Field(
        default=_LEFT_OUT, description="Largest first, then by phase name. " + _SHOWN
    )
    budget: BudgetFigures = Field(default=_LEFT_OUT, description=_SHOWN)
    earned_value: RollupValue = Field(default=_LEFT_OUT, description=_SHOWN)
    compliance: RollupCompliance = Field(default=_LEFT_OUT, description=_SHOWN)
    open_risks: int | None = Field(
        default=_LEFT_OUT, description="Risks open or being mitigated. " + _SHOWN
    )
    open_high_risks: int | None = Field(
        default=_LEFT_OUT, description="Open risks scoring at least 10 (of 25). " + _SHOWN
    )
    overdue_milestones: int | None = Field(
        default=_LEFT_OUT, description="Open milestones due before as_of. " + _SHOWN
    )
    top_risks: list[TopRisk] | None = Field(
        default=_LEFT_OUT, description="The open risks scoring highest. " + _SHOWN
    )
    red_projects: list[ProjectBrief] | None = Field(
        default=_LEFT_OUT,
        description="Red projects, by key (the first 20; by_health.red counts them all). " + _SHOWN,
    )
    objectives: list[ObjectiveShare] | None = Field(
        default=_LEFT_OUT, description="The budget aligned to each objective. " + _SHOWN
    )
    unaligned: Unaligned | None = Field(default=_LEFT_OUT, description=_SHOWN)


class PortfolioMetrics(RollupMetrics):
    """A portfolio's live projects, rolled up over nested portfolios."""

    portfolio_id: uuid.UUID
    key: str
    name: str
    include_sub_portfolios: bool


class OrganisationMetrics(RollupMetrics):
    """Every live project of the organisation: the view an executive opens first."""


class RiskCounts(Read):
    """Open risks (open or being mitigated) by severity band of their score (p x i)."""

    total: int
    low: int = Field(description="Score 1-4.")
    medium: int = Field(description="Score 5-9.")
    high: int = Field(description="Score 10-14.")
    critical: int = Field(description="Score 15-25.")


class BaselineRef(Read):
    id: uuid.UUID
    name: str
    captured_at: datetime
    planned_start: Day | None
    planned_end: Day | None
    planned_budget: Money


class PlanVariance(Read):
    """The current plan against the current baseline."""

    budget_change: SignedMoney = Field(description="planned_budget - the baseline's.")
    start_slip_days: int | None = Field(description="Days the planned start moved (+ later).")
    end_slip_days: int | None = Field(description="Days the planned end moved (+ later).")


class EarnedValue(Read):
    """Earned value against the current baseline (its budget and dates).

    PV = BAC x the share of the baseline's duration elapsed today; EV = BAC x percent
    complete; AC = actual cost; SPI = EV / PV; CPI = EV / AC; EAC = BAC / CPI; ETC =
    EAC - AC; VAC = BAC - EAC. Ratios are exact until shown (EAC is not computed from a
    rounded CPI). A figure that cannot be computed (nothing planned yet, no cost yet,
    nothing earned yet) is null, its reason in ``reasons``.
    """

    budget_at_completion: Money
    planned_value: Money
    earned_value: Money
    actual_cost: Money
    schedule_variance: SignedMoney = Field(description="EV - PV.")
    cost_variance: SignedMoney = Field(description="EV - AC.")
    spi: float | None = Field(description="EV / PV, 3 decimals.")
    cpi: float | None = Field(description="EV / AC, 3 decimals.")
    estimate_at_completion: SignedMoney | None = Field(description="BAC / CPI.")
    estimate_to_complete: SignedMoney | None = Field(description="EAC - AC.")
    variance_at_completion: SignedMoney | None = Field(description="BAC - EAC.")
    reasons: dict[str, str] = Field(
        default_factory=dict, description="Why each figure that is null is null, by its name."
    )


class StatusReportAge(Read):
    latest_id: uuid.UUID
    period_end: Day
    submitted_at: datetime
    age_days: int = Field(description="Days from its period end to as_of.")


class ProjectMetrics(Read):
    """One project's figures, computed in SQL on request; or as they stood at the end of
    a day, from its history (``as_of``)."""

    project_id: uuid.UUID
    key: str
    as_of: Day = Field(description="The day (UTC) figures that depend on time refer to.")
    from_history: bool = Field(
        default=False,
        description="True when answered from the history (as_of before today): the "
        "figures a snapshot keeps, and null for the others.",
    )
    status: str
    phase: str | None
    health: str
    percent_complete: int
    planned_budget: Money
    actual_cost: Money
    budget_variance: SignedMoney = Field(description="planned_budget - actual_cost.")
    baseline: BaselineRef | None = Field(description="The current baseline, if any.")
    variance: PlanVariance | None = Field(description="Null without a current baseline.")
    earned_value: EarnedValue | None = Field(
        description="Null without a current baseline with planned start and end."
    )
    earned_value_reason: str | None = Field(
        default=None, description="Why earned_value is null; null when it is not."
    )
    compliance: ComplianceFigures
    open_risks: RiskCounts | None
    overdue_milestones: int | None
    status_report: StatusReportAge | None = Field(
        description="The latest submitted status report; null before the first."
    )


class HistoryPoint(Read):
    """A portfolio's figures at the end of one interval: each project's latest snapshot
    on or before ``as_of``."""

    period_start: Day
    as_of: Day = Field(description="The interval's last day: the figures are of its end.")
    project_count: int
    by_health: dict[str, int]
    planned_budget: Money
    actual_cost: Money
    planned_value: Money
    earned_value: Money
    spi: float | None
    cpi: float | None
    compliance_rate: float | None
    percent_complete: float | None = Field(description="The projects' mean, 1 decimal.")


class PortfolioHistory(Read):
    portfolio_id: uuid.UUID
    key: str
    name: str
    include_sub_portfolios: bool
    interval: str = Field(description="day, week (ISO, Monday to Sunday) or month.")
    start: Day
    end: Day
    first_snapshot: Day | None = Field(description="The history's first day, if any.")
    points: list[HistoryPoint] = Field(description="One per interval, oldest first.")
