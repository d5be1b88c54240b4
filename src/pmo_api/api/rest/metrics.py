"""Metrics over REST: rollups computed in SQL, as JSON or one CSV row."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.deps import Ctx
from pmo_api.api.rest.docs import CSV_FIGURES, problems
from pmo_api.api.rest.lists import KeyedRef, ref_or_422
from pmo_api.metrics import service as metrics
from pmo_api.metrics.schemas import PortfolioMetrics

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
    "/portfolios/{id}",
    response_model=PortfolioMetrics,
    responses={200: CSV_FIGURES, **problems(404)},
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
    if present.wants_csv(request, format):
        row = _flatten(figures.model_dump(mode="json"))
        return Response(
            present.to_csv(list(row), [row]), media_type=present.CSV + "; charset=utf-8"
        )
    return Response(figures.model_dump_json().encode(), media_type=present.JSON)
