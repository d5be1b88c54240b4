"""A portfolio's projects ranked by priority, and which fit under its budget cap.

A project's priority score, 0 to 100, weighs three parts with the portfolio's weights
(``priority_weight_alignment``, ``_value``, ``_risk``):
- alignment: its contributions to the active objectives, each weighted by the
  objective's weight, over the most it could contribute (3 to every one);
- value for cost: its weighted contributions per unit of planned budget, against the
  best in the ranking;
- risk: 1 - its open risk exposure (the sum of its open risks' scores) against the
  largest in the ranking.
The live projects still to deliver (proposed, active, on hold) of the portfolio (and,
by default, of the portfolios nested below it) are ranked highest score first; each
shows the budget of the projects ranked before it and its own, and whether that sum
stays under the portfolio's budget cap. One statement, on either database."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from pydantic import Field
from sqlalchemy import Float, and_, cast, func, literal, select

from pmo_api.alignment.models import Alignment
from pmo_api.core.context import ServiceContext
from pmo_api.core.schemas import Money, Read
from pmo_api.db.reads import SessionReads
from pmo_api.objectives.models import Objective, ObjectiveStatus
from pmo_api.portfolios.declaration import PORTFOLIOS
from pmo_api.portfolios.models import Portfolio
from pmo_api.projects.models import Project, ProjectStatus
from pmo_api.raid.models import Risk, open_risk_clause
from pmo_api.resources import service as resources

TO_DELIVER = (ProjectStatus.PROPOSED, ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD)


class PriorityWeights(Read):
    alignment: int
    value: int
    risk: int


class RankedProject(Read):
    rank: int = Field(description="1 for the highest priority.")
    id: uuid.UUID
    key: str
    name: str
    status: ProjectStatus
    score: float = Field(description="The priority score, 0 to 100.")
    alignment: float = Field(description="Weighted contributions / the most possible, 0 to 1.")
    value_for_cost: float = Field(description="Against the best in the ranking, 0 to 1.")
    risk_exposure: int = Field(description="The sum of its open risks' scores.")
    planned_budget: Money
    cumulative_budget: Money = Field(description="Its budget and those ranked before it.")
    fits_budget_cap: bool = Field(
        description="The cumulative budget stays under the portfolio's cap (true without one)."
    )


class PortfolioRanking(Read):
    """A portfolio's projects to deliver, highest priority first."""

    portfolio_id: uuid.UUID
    key: str
    budget_cap: Money | None
    weights: PriorityWeights
    include_sub_portfolios: bool
    funded_budget: Money = Field(description="The budget of the projects that fit.")
    projects: list[RankedProject]


def _ratio(numerator: Any, denominator: Any) -> Any:
    return cast(numerator, Float) / func.nullif(cast(denominator, Float), 0)


async def ranking(
    ctx: ServiceContext, ref: uuid.UUID | str, *, include_sub_portfolios: bool = True
) -> dict[str, Any]:
    """The ``PortfolioRanking`` document (404 ``portfolio_not_found``)."""
    portfolio = await resources.read(ctx, PORTFOLIOS, ref)
    weights = {
        part: int(portfolio[f"priority_weight_{part}"]) for part in ("alignment", "value", "risk")
    }
    tree = select(Portfolio.id).where(Portfolio.id == portfolio["id"]).cte("tree", recursive=True)
    if include_sub_portfolios:
        tree = tree.union_all(
            select(Portfolio.id)
            .join(tree, Portfolio.parent_id == tree.c.id)
            .where(Portfolio.archived_at.is_(None))
        )
    live_objective = and_(
        Objective.status == ObjectiveStatus.ACTIVE, Objective.archived_at.is_(None)
    )
    most = select(3 * func.sum(Objective.weight)).where(live_objective).scalar_subquery()
    points = func.coalesce(
        select(func.sum(Alignment.contribution * Objective.weight))
        .join(Objective, Objective.id == Alignment.objective_id)
        .where(Alignment.project_id == Project.id, Alignment.archived_at.is_(None), live_objective)
        .correlate(Project)
        .scalar_subquery(),
        0,
    )
    exposure = func.coalesce(
        select(func.sum(Risk.score))
        .where(Risk.project_id == Project.id, open_risk_clause())
        .correlate(Project)
        .scalar_subquery(),
        0,
    )
    base = (
        select(
            Project.id,
            Project.key,
            Project.name,
            Project.status,
            Project.planned_budget,
            points.label("points"),
            exposure.label("exposure"),
        )
        .where(
            Project.portfolio_id.in_(select(tree.c.id)),
            Project.archived_at.is_(None),
            Project.status.in_(TO_DELIVER),
        )
        .cte("base")
    )
    alignment = func.coalesce(_ratio(base.c.points, most), 0.0)
    per_cost = _ratio(base.c.points, base.c.planned_budget)
    value = func.coalesce(_ratio(per_cost, func.max(per_cost).over()), 0.0)
    risk = func.coalesce(_ratio(base.c.exposure, func.max(base.c.exposure).over()), 0.0)
    total = sum(weights.values()) or 1
    score = (
        literal(100.0)
        * (
            literal(weights["alignment"]) * alignment
            + literal(weights["value"]) * value
            + literal(weights["risk"]) * (1 - risk)
        )
        / literal(float(total))
    )
    scored = select(
        base.c.id,
        base.c.key,
        base.c.name,
        base.c.status,
        base.c.planned_budget,
        base.c.exposure,
        alignment.label("alignment"),
        value.label("value_for_cost"),
        score.label("score"),
    ).cte("scored")
    order = (scored.c.score.desc(), scored.c.key)
    stmt = select(
        scored,
        func.row_number().over(order_by=order).label("rank"),
        func.sum(scored.c.planned_budget)
        .over(order_by=order, rows=(None, 0))
        .label("cumulative_budget"),
    ).order_by(*order)
    rows = await (ctx.reads or SessionReads(ctx.session)).all(stmt)
    cap = portfolio["budget_cap"]
    projects = []
    funded = Decimal(0)
    for row in rows:
        cumulative = Decimal(row["cumulative_budget"])
        fits = cap is None or cumulative <= cap
        if fits:
            funded = cumulative
        projects.append(
            {
                "rank": row["rank"],
                "id": row["id"],
                "key": row["key"],
                "name": row["name"],
                "status": row["status"],
                "score": round(float(row["score"]), 2),
                "alignment": round(float(row["alignment"]), 4),
                "value_for_cost": round(float(row["value_for_cost"]), 4),
                "risk_exposure": int(row["exposure"]),
                "planned_budget": row["planned_budget"],
                "cumulative_budget": cumulative,
                "fits_budget_cap": fits,
            }
        )
    return {
        "portfolio_id": portfolio["id"],
        "key": portfolio["key"],
        "budget_cap": cap,
        "weights": weights,
        "include_sub_portfolios": include_sub_portfolios,
        "funded_budget": funded,
        "projects": projects,
    }
