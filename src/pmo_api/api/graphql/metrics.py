"""Metrics over GraphQL: ``Project.metrics``, ``Portfolio.metrics``, ``Portfolio.history``
and the organisation's ``metricsSummary``: the same services (the same SQL) and the
same shapes as REST."""

# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import strawberry

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.declared import document_type
from pmo_api.api.graphql.relay import same
from pmo_api.metrics import service as metrics
from pmo_api.metrics.schemas import (
    OrganisationMetrics,
    PortfolioHistory,
    PortfolioMetrics,
    ProjectMetrics,
)
from pmo_api.metrics.service import Interval

ProjectMetricsType: Any = document_type(ProjectMetrics)
PortfolioMetricsType: Any = document_type(PortfolioMetrics)
OrganisationMetricsType: Any = document_type(OrganisationMetrics)
PortfolioHistoryType: Any = document_type(PortfolioHistory)
HistoryInterval = strawberry.enum(Interval, name="HistoryInterval")

AS_OF = "The figures as they stood at the end of that day, from the history."


async def _project(
    root: Any,
    info: GqlInfo,
    as_of: Annotated[date | None, strawberry.argument(description=AS_OF)] = None,
) -> ProjectMetricsType:
    return await info.context.fetch(
        lambda ctx: metrics.project_metrics(ctx, root.id, as_of=as_of), same
    )


async def _portfolio(
    root: Any,
    info: GqlInfo,
    include_sub_portfolios: bool = True,
    as_of: Annotated[date | None, strawberry.argument(description=AS_OF)] = None,
) -> PortfolioMetricsType:
    return await info.context.fetch(
        lambda ctx: metrics.portfolio_metrics(
            ctx, root.id, include_sub_portfolios=include_sub_portfolios, as_of=as_of
        ),
        same,
    )


async def _history(
    root: Any,
    info: GqlInfo,
    start: Annotated[date | None, strawberry.argument(name="from")] = None,
    end: Annotated[date | None, strawberry.argument(name="to")] = None,
    interval: HistoryInterval = Interval.WEEK,  # type: ignore[valid-type]
    include_sub_portfolios: bool = True,
) -> PortfolioHistoryType:
    return await info.context.fetch(
        lambda ctx: metrics.portfolio_history(
            ctx,
            root.id,
            start=start,
            end=end,
            interval=Interval(interval),
            include_sub_portfolios=include_sub_portfolios,
        ),
        same,
    )


PROJECT_METRICS = strawberry.field(
    resolver=_project,
    description="Earned value against the current baseline, slip, open risks by band, "
    "overdue milestones, the latest status report's age and compliance (or, with asOf, "
    "as they stood that day).",
)
PORTFOLIO_METRICS = strawberry.field(
    resolver=_portfolio,
    description="Its live projects (and its sub-portfolios', by default) rolled up: counts "
    "by status, health and phase, budget, aggregate SPI and CPI, top risks, red projects, "
    "compliance, the budget aligned to each objective and the unaligned spend.",
)
PORTFOLIO_HISTORY = strawberry.field(
    resolver=_history,
    description="Its figures at the end of each day, week or month from `from` to `to`.",
)


@strawberry.type
class MetricsQuery:
    @strawberry.field(
        description="Every live project rolled up: the view an executive opens first."
    )
    async def metrics_summary(
        self,
        info: GqlInfo,
        as_of: Annotated[date | None, strawberry.argument(description=AS_OF)] = None,
    ) -> OrganisationMetricsType:
        return await info.context.fetch(
            lambda ctx: metrics.organisation_metrics(ctx, as_of=as_of), same
        )
