from __future__ import annotations

import uuid
from datetime import date

from pydantic import Field

from pmo_api.core.schemas import Money, Read, SignedMoney


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
    as_of: date = Field(description="The day overdue milestones are measured against (UTC).")
    project_count: int
    by_status: dict[str, int] = Field(description="Every project status, zero included.")
    by_health: dict[str, int] = Field(description="green, amber and red, zero included.")
    by_phase: list[PhaseCount] = Field(description="Largest first, then by phase name.")
    budget: BudgetFigures
    open_risks: int = Field(description="Risks open or being mitigated.")
    open_high_risks: int = Field(description="Open risks scoring at least 15 (of 25).")
    overdue_milestones: int = Field(description="Open milestones due before as_of.")
