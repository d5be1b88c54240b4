"""Metrics over REST: rollups computed in SQL, as JSON or one CSV row."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.deps import Ctx
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


@router.get(
    "/projects/{id}",
    response_model=ProjectMetrics,
    responses={200: CSV_FIGURES, **problems(304, 404)},
    summary="A project's metrics",
    name="project_metrics",
)
async def project_metrics(
    request: Request,
    ctx: Ctx,
    id: KeyedRef,
    format: Annotated[present.Format | None, Query(description="json or csv.")] = None,
) -> Response:
    """Budget variance, variance and earned value (PV, EV, SPI, CPI, EAC, ETC, VAC)
    against the current baseline, open risks by severity band, overdue milestones and
    the age of the latest status report: computed in SQL, fresh each time."""
    figures = await metrics.project_metrics(ctx, ref_or_422(id))
    return _answer(request, figures, format)


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
    request: Request,
    ctx: Ctx,
    id: KeyedRef,
    include_sub_portfolios: Annotated[
        bool, Query(description="Roll up the portfolios nested below it too (default).")
    ] = True,
    format: Annotated[present.Format | None, Query(description="json or csv.")] = None,
) -> Response:
    """Counts of the live projects by status, health and phase, budget planned / actual /
    variance, open and high risks, overdue milestones: computed in SQL, fresh each time."""
    figures = await metrics.portfolio_metrics(
        ctx, ref_or_422(id), include_sub_portfolios=include_sub_portfolios
    )
    return _answer(request, figures, format)
