"""Portfolio rollups: every role reads them (executives and scripts are the audience)."""

from __future__ import annotations

import uuid
from collections import Counter
from decimal import Decimal

from pmo_api.core.context import ServiceContext
from pmo_api.metrics.repository import MetricsRepository
from pmo_api.metrics.schemas import BudgetFigures, PhaseCount, PortfolioMetrics
from pmo_api.portfolios import service as portfolios
from pmo_api.projects.models import Health, ProjectStatus

CENT = Decimal("0.01")


async def portfolio_metrics(
    ctx: ServiceContext, ref: uuid.UUID | str, *, include_sub_portfolios: bool = True
) -> PortfolioMetrics:
    portfolio = await portfolios.get_portfolio(ctx, ref)
    today = ctx.now.date()
    groups = await MetricsRepository(ctx.session).portfolio_groups(
        portfolio.id, nested=include_sub_portfolios, today=today
    )
    by_status = Counter({status.value: 0 for status in ProjectStatus})
    by_health = Counter({health.value: 0 for health in Health})
    by_phase: Counter[str | None] = Counter()
    planned = actual = Decimal("0")
    for group in groups:
        by_status[group.status] += group.count
        by_health[group.health] += group.count
        by_phase[group.phase] += group.count
        planned += group.planned
        actual += group.actual
    # The risk and milestone counts are the same on every group row (one subquery each).
    first = groups[0] if groups else None
    return PortfolioMetrics(
        portfolio_id=portfolio.id,
        key=portfolio.key,
        name=portfolio.name,
        include_sub_portfolios=include_sub_portfolios,
        as_of=today,
        project_count=sum(group.count for group in groups),
        by_status=dict(by_status),
        by_health=dict(by_health),
        by_phase=[
            PhaseCount(phase=phase, count=count)
            for phase, count in sorted(by_phase.items(), key=lambda kv: (-kv[1], kv[0] or ""))
        ],
        budget=BudgetFigures(
            planned=planned.quantize(CENT),
            actual=actual.quantize(CENT),
            variance=(planned - actual).quantize(CENT),
        ),
        open_risks=first.open_risks if first else 0,
        open_high_risks=first.open_high_risks if first else 0,
        overdue_milestones=first.overdue_milestones if first else 0,
    )
