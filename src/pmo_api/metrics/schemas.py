from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from pmo_api.core.schemas import Day, Money, Read, SignedMoney


class BudgetFigures(Read):
    planned: Money
    actual: Money
    variance: SignedMoney = Field(description="planned - actual: negative when over budget.")


class PhaseCount(Read):
    phase: str | None = Field(description="null for projects with no phase set.")
    count: int


class PortfolioMetrics(Read):
    """A portfolio's live projects (not archived), rolled up over nested portfolios."""

    portfolio_id: uuid.UUID
    key: str
    name: str
    include_sub_portfolios: bool
    as_of: Day = Field(description="The day overdue milestones are measured against (UTC).")
    project_count: int
    by_status: dict[str, int] = Field(description="Every project status, zero included.")
    by_health: dict[str, int] = Field(description="green, amber and red, zero included.")
    by_phase: list[PhaseCount] = Field(description="Largest first, then by phase name.")
    budget: BudgetFigures
    open_risks: int = Field(description="Risks open or being mitigated.")
    open_high_risks: int = Field(description="Open risks scoring at least 15 (of 25).")
    overdue_milestones: int = Field(description="Open milestones due before as_of.")


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
    """One project's figures, computed in SQL on request."""

    project_id: uuid.UUID
    key: str
    as_of: Day = Field(description="The day (UTC) figures that depend on time refer to.")
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
    open_risks: RiskCounts
    overdue_milestones: int
    status_report: StatusReportAge | None = Field(
        description="The latest submitted status report; null before the first."
    )
