"""Metrics over REST: rollups computed in SQL, as JSON or one CSV row."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.deps import (
    Caller,
    path_parser,
    query_parser,
    request_context,
    serve_directly,
)
from pmo_api.api.rest.docs import CSV_FIGURES, problems
from pmo_api.api.rest.lists import KeyedRef, ref_or_422
from pmo_api.metrics import service as metrics
from pmo_api.metrics.schemas import PortfolioMetrics, ProjectMetrics

router = APIRouter(prefix="/metrics", tags=["metrics"])


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested figures as one CSV row: ``budget.planned``, ``by_phase.build``..."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for name, inner in value.items():
            out.update(_flatten(inner, f"{prefix}{name}."))
        return out
    if isinstance(value, list):
        return {f"{prefix}{item['phase'] or 'none'}": item["count"] for item in value}
    return {prefix.rstrip("."): value}


class FiguresQuery(BaseModel):
    """The query of a project's figures."""

    model_config = ConfigDict(extra="forbid")

    format: present.Format | None = Field(default=None, description="json or csv.")


class RollupQuery(FiguresQuery):
    """The query of a portfolio's rollup."""

    include_sub_portfolios: bool = Field(
        default=True, description="Roll up the portfolios nested below it too (default)."
    )


@router.get(
    "/projects/{id}",
    response_model=ProjectMetrics,
    responses={200: CSV_FIGURES, **problems(304, 404)},
    summary="A project's metrics",
    name="project_metrics",
)
async def project_metrics(
    request: Request, _: Caller, id: KeyedRef, query: Annotated[FiguresQuery, Query()]
) -> Response:
    """Budget variance, variance and earned value (PV, EV, SPI, CPI, EAC, ETC, VAC)
    against the current baseline, open risks by severity band, overdue milestones and
    the age of the latest status report: computed in SQL, fresh each time."""
    return await _project_figures(request, id, query)


async def _project_figures(request: Request, id: str, query: FiguresQuery) -> Response:
    async with request_context(request) as ctx:
        figures = await metrics.project_metrics(ctx, ref_or_422(id))
    return _answer(request, figures, query.format)


def _answer(request: Request, figures: BaseModel, format: present.Format | None) -> Response:
    if present.wants_csv(request, format):
        row = _flatten(figures.model_dump(mode="json"))
        csv = present.to_csv(list(row), [row])
        return present.computed(request, csv, present.CSV + "; charset=utf-8")
    return present.figures(request, figures)


@router.get(
    "/portfolios/{id}",
    response_model=PortfolioMetrics,
    responses={200: CSV_FIGURES, **problems(304, 404)},
    summary="A portfolio's rollup",
    name="portfolio_metrics",
)
async def portfolio_metrics(
    request: Request, _: Caller, id: KeyedRef, query: Annotated[RollupQuery, Query()]
) -> Response:
    """Counts of the live projects by status, health and phase, budget planned / actual /
    variance, open and high risks, overdue milestones: computed in SQL, fresh each time."""
    return await _rollup(request, id, query)


async def _rollup(request: Request, id: str, query: RollupQuery) -> Response:
    async with request_context(request) as ctx:
        figures = await metrics.portfolio_metrics(
            ctx, ref_or_422(id), include_sub_portfolios=query.include_sub_portfolios
        )
    return _answer(request, figures, query.format)


# Served without FastAPI's dependency solving (api/routing.py); the declarations above
# stay the contract, and the checks are theirs.
_KEYED_REF: TypeAdapter[str] = TypeAdapter(KeyedRef)
serve_directly(
    project_metrics, _project_figures, path_parser(_KEYED_REF), query_parser(FiguresQuery)
)
serve_directly(portfolio_metrics, _rollup, path_parser(_KEYED_REF), query_parser(RollupQuery))
