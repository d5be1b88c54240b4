"""Metrics over REST: rollups computed in SQL, as JSON or one CSV row."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from starlette.responses import Response

from pmo_api.api.rest import charts
from pmo_api.api.rest import responses as present
from pmo_api.api.rest.charts import SVG
from pmo_api.api.rest.deps import (
    Caller,
    path_parser,
    query_parser,
    request_context,
    serve_directly,
)
from pmo_api.api.rest.docs import CHART_FIGURES, CSV_FIGURES, problems
from pmo_api.api.rest.lists import KeyedRef, ref_or_422
from pmo_api.core.schemas import Day
from pmo_api.metrics import service as metrics
from pmo_api.metrics.schemas import (
    OrganisationMetrics,
    PortfolioHistory,
    PortfolioMetrics,
    ProjectMetrics,
)
from pmo_api.metrics.service import ROLLUP_FIGURES, Interval

router = APIRouter(prefix="/metrics", tags=["metrics"])


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested figures as one CSV row: ``budget.planned``, ``by_phase.build``,
    ``objectives.GROW.share_of_budget``, ``top_risks.1.score``..."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for name, inner in value.items():
            out.update(_flatten(inner, f"{prefix}{name}."))
        return out
    if isinstance(value, list):
        if all(set(item) == {"phase", "count"} for item in value):
            return {f"{prefix}{item['phase'] or 'none'}": item["count"] for item in value}
        listed: dict[str, Any] = {}
        for rank, item in enumerate(value, 1):
            listed.update(_flatten(item, f"{prefix}{item.get('key') or rank}."))
        return listed
    return {prefix.rstrip("."): value}


class ChartFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    SVG = "svg"


AS_OF = Field(
    default=None,
    description="Answer from the history: the figures as they stood at the end of that "
    "day (UTC). 422 `before_history` before the first snapshot (its day in `earliest`).",
)


class FiguresQuery(BaseModel):
    """The query of a project's figures."""

    model_config = ConfigDict(extra="forbid")

    format: present.Format | None = Field(default=None, description="json or csv.")
    as_of: Day | None = AS_OF


_FIGURE = "(" + "|".join(ROLLUP_FIGURES) + ")"
FIELDS_PATTERN = f"^{_FIGURE}(,{_FIGURE})*$"
"""The figures' names, comma-separated: the schema states which (an unknown one is 422)."""


class SummaryQuery(BaseModel):
    """The query of the organisation's summary."""

    model_config = ConfigDict(extra="forbid")

    format: ChartFormat | None = Field(
        default=None, description="json, csv (one row) or svg (a chart)."
    )
    as_of: Day | None = AS_OF
    fields: str | None = Field(
        default=None,
        max_length=400,
        pattern=FIELDS_PATTERN,
        description="Only these figures, comma-separated (computed and shown; the others "
        "are not): " + ", ".join(ROLLUP_FIGURES) + ". Default: all. The chart (svg) "
        "draws the budget, the health counts and earned value whatever is named.",
    )


class RollupQuery(SummaryQuery):
    """The query of a portfolio's rollup."""

    include_sub_portfolios: bool = Field(
        default=True, description="Roll up the portfolios nested below it too (default)."
    )


class HistoryQuery(BaseModel):
    """The query of a portfolio's history."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)

    start: Day | None = Field(
        default=None,
        alias="from",
        description="The first day (default: 30 days, 12 weeks or a year before `to`).",
    )
    end: Day | None = Field(default=None, alias="to", description="The last day (default today).")
    interval: Interval = Field(default=Interval.WEEK, description="day, week or month.")
    include_sub_portfolios: bool = Field(
        default=True, description="Roll up the portfolios nested below it too (default)."
    )
    format: ChartFormat | None = Field(
        default=None, description="json, csv (one row per point) or svg (a chart)."
    )


def _wants(request: Request, fmt: ChartFormat | None) -> ChartFormat:
    if fmt is not None:
        return fmt
    accept = request.headers.get("accept", "")
    if SVG in accept and present.JSON not in accept:
        return ChartFormat.SVG
    if present.CSV in accept and present.JSON not in accept:
        return ChartFormat.CSV
    return ChartFormat.JSON


@router.get(
    "/projects/{id}",
    response_model=ProjectMetrics,
    responses={200: CSV_FIGURES, **problems(304, 404, 422)},
    summary="A project's metrics",
    name="project_metrics",
)
async def project_metrics(
    request: Request, _: Caller, id: KeyedRef, query: Annotated[FiguresQuery, Query()]
) -> Response:
    """Budget variance, variance and earned value (PV, EV, SPI, CPI, EAC, ETC, VAC)
    against the current baseline, open risks by severity band, overdue milestones, the
    age of the latest status report and the compliance rate: computed in SQL, fresh each
    time; or with `as_of`, as they stood at the end of that day (from the history)."""
    return await _project_figures(request, id, query)


async def _project_figures(request: Request, id: str, query: FiguresQuery) -> Response:
    async with request_context(request) as ctx:
        figures = await metrics.project_metrics(ctx, ref_or_422(id), as_of=query.as_of)
    fmt = ChartFormat.CSV if present.wants_csv(request, query.format) else ChartFormat.JSON
    return await _answer(request, figures, fmt)


async def _answer(
    request: Request,
    figures: BaseModel,
    fmt: ChartFormat,
    chart: Any = None,
    *,
    partial: bool = False,
) -> Response:
    """The figures as JSON, one CSV row or a chart. A rollup (``partial``) holds the
    ``fields`` asked for alone, made without validation: ``exclude_unset`` shows what it
    holds."""
    if fmt is ChartFormat.SVG and chart is not None:
        svg = await chart(figures.model_dump(mode="json", exclude_unset=partial))
        return present.computed(request, svg, SVG)
    if fmt is ChartFormat.CSV:
        row = _flatten(figures.model_dump(mode="json", exclude_unset=partial))
        csv = present.to_csv(list(row), [row])
        return present.computed(request, csv, present.CSV + "; charset=utf-8")
    body = figures.model_dump_json(exclude_unset=partial)
    return present.computed(request, body.encode())


@router.get(
    "/summary",
    response_model=OrganisationMetrics,
    responses={200: CHART_FIGURES, **problems(304, 422)},
    summary="The organisation's summary",
    name="organisation_metrics",
)
async def organisation_metrics(
    request: Request, _: Caller, query: Annotated[SummaryQuery, Query()]
) -> Response:
    """Every live project rolled up, the view an executive opens first: counts by
    status, health and phase, budget, aggregate SPI and CPI, top risks, red projects,
    compliance, the budget aligned to each objective and the unaligned spend."""
    return await _summary(request, query)


async def _summary(request: Request, query: SummaryQuery) -> Response:
    async with request_context(request) as ctx:
        fmt = _wants(request, query.format)
        figures = await metrics.organisation_metrics(
            ctx, as_of=query.as_of, fields=None if fmt is ChartFormat.SVG else query.fields
        )
    return await _answer(request, figures, fmt, charts.rollup_chart, partial=True)


@router.get(
    "/portfolios/{id}",
    response_model=PortfolioMetrics,
    responses={200: CHART_FIGURES, **problems(304, 404, 422)},
    summary="A portfolio's rollup",
    name="portfolio_metrics",
)
async def portfolio_metrics(
    request: Request, _: Caller, id: KeyedRef, query: Annotated[RollupQuery, Query()]
) -> Response:
    """Counts of the live projects by status, health and phase, budget planned / actual /
    variance, aggregate SPI and CPI, open and high risks, top risks, red projects,
    overdue milestones, compliance, the budget aligned to each objective and the
    unaligned spend: computed in SQL, fresh each time; with `as_of`, from the history."""
    return await _rollup(request, id, query)


async def _rollup(request: Request, id: str, query: RollupQuery) -> Response:
    fmt = _wants(request, query.format)
    async with request_context(request) as ctx:
        figures = await metrics.portfolio_metrics(
            ctx,
            ref_or_422(id),
            include_sub_portfolios=query.include_sub_portfolios,
            as_of=query.as_of,
            fields=None if fmt is ChartFormat.SVG else query.fields,
        )
    return await _answer(request, figures, fmt, charts.rollup_chart, partial=True)


@router.get(
    "/portfolios/{id}/history",
    response_model=PortfolioHistory,
    responses={200: CHART_FIGURES, **problems(304, 404, 422)},
    summary="A portfolio's history",
    name="portfolio_history",
)
async def portfolio_history(
    request: Request, _: Caller, id: KeyedRef, query: Annotated[HistoryQuery, Query()]
) -> Response:
    """The portfolio's figures at the end of each day, week or month from `from` to `to`
    (each project's latest snapshot then): project counts by health, budget, planned and
    earned value, SPI, CPI, compliance rate. As CSV one row per point; as SVG trend
    lines."""
    return await _history(request, id, query)


async def _history(request: Request, id: str, query: HistoryQuery) -> Response:
    async with request_context(request) as ctx:
        found = await metrics.portfolio_history(
            ctx,
            ref_or_422(id),
            start=query.start,
            end=query.end,
            interval=query.interval,
            include_sub_portfolios=query.include_sub_portfolios,
        )
    fmt = _wants(request, query.format)
    if fmt is ChartFormat.CSV:
        rows = [_flatten(point.model_dump(mode="json")) for point in found.points]
        csv = present.to_csv(list(rows[0]) if rows else [], rows)
        return present.computed(request, csv, present.CSV + "; charset=utf-8")
    return await _answer(request, found, fmt, charts.history_chart)


# Served without FastAPI's dependency solving (api/routing.py); the declarations above
# stay the contract, and the checks are theirs.
_KEYED_REF: TypeAdapter[str] = TypeAdapter(KeyedRef)
serve_directly(
    project_metrics, _project_figures, path_parser(_KEYED_REF), query_parser(FiguresQuery)
)
serve_directly(portfolio_metrics, _rollup, path_parser(_KEYED_REF), query_parser(RollupQuery))
serve_directly(organisation_metrics, _summary, query_parser(SummaryQuery))
serve_directly(portfolio_history, _history, path_parser(_KEYED_REF), query_parser(HistoryQuery))
