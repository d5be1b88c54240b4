"""Findings by severity and age, per portfolio: what a PMO reviews to see where open
findings pile up and how long they have waited."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from pydantic import Field
from sqlalchemy import case, func, select

from pmo_api.audits.declaration import FINDINGS
from pmo_api.audits.models import OPEN_STATUSES, Finding
from pmo_api.core.context import ServiceContext
from pmo_api.core.schemas import Read
from pmo_api.db.reads import SessionReads
from pmo_api.portfolios.models import Portfolio
from pmo_api.projects.models import Project
from pmo_api.resources import service as resources
from pmo_api.standards.rules import Severity

AGES = (("days_0_30", 30), ("days_31_90", 90), ("days_91_180", 180), ("days_over_180", None))
"""The age buckets of an open finding (days since it was raised), each up to its limit."""


class AgeCounts(Read):
    days_0_30: int = 0
    days_31_90: int = 0
    days_91_180: int = 0
    days_over_180: int = 0


class SeverityAges(Read):
    severity: Severity
    open: int = Field(description="Open or in remediation.")
    overdue: int = Field(description="Open or in remediation past their due date.")
    ages: AgeCounts = Field(description="The open ones by days since they were raised.")


class PortfolioFindings(Read):
    portfolio_id: uuid.UUID | None = Field(description="Null: projects in no portfolio.")
    portfolio_key: str | None
    portfolio_name: str | None
    open: int
    overdue: int
    ages: AgeCounts
    by_severity: list[SeverityAges] = Field(description="Critical first; every severity.")


class FindingsReport(Read):
    """The open findings (open or in remediation) of live projects, per portfolio."""

    as_of: date
    open: int
    overdue: int
    ages: AgeCounts
    by_severity: list[SeverityAges]
    portfolios: list[PortfolioFindings] = Field(
        description="Each portfolio with open findings, most open first."
    )


def _empty() -> dict[str, Any]:
    return {
        "open": 0,
        "overdue": 0,
        "ages": {name: 0 for name, _ in AGES},
        "by_severity": {
            s: {"severity": s, "open": 0, "overdue": 0, "ages": {n: 0 for n, _ in AGES}}
            for s in reversed(Severity)
        },
    }


def _add(into: dict[str, Any], severity: Severity, age: str, count: int, overdue: int) -> None:
    for part in (into, into["by_severity"][severity]):
        part["open"] += count
        part["overdue"] += overdue
        part["ages"][age] += count


async def findings_report(ctx: ServiceContext) -> dict[str, Any]:
    """One statement: open findings counted by portfolio, severity and age bucket."""
    resources.refuse_unless_reader(ctx, FINDINGS)
    today = ctx.now.date()
    whens = [
        (Finding.created_at >= ctx.now - timedelta(days=limit), name)
        for name, limit in AGES
        if limit is not None
    ]
    age = case(*whens, else_=AGES[-1][0]).label("age")
    late = func.sum(case((Finding.due_on < today, 1), else_=0)).label("overdue")
    stmt = (
        select(
            Project.portfolio_id,
            Portfolio.key,
            Portfolio.name,
            Finding.severity,
            age,
            func.count().label("count"),
            late,
        )
        .select_from(Finding)
        .join(Project, Project.id == Finding.project_id)
        .outerjoin(Portfolio, Portfolio.id == Project.portfolio_id)
        .where(
            Finding.status.in_(OPEN_STATUSES),
            Finding.archived_at.is_(None),
            Project.archived_at.is_(None),
        )
        .group_by(Project.portfolio_id, Portfolio.key, Portfolio.name, Finding.severity, age)
    )
    total = _empty()
    portfolios: dict[Any, dict[str, Any]] = {}
    reads = ctx.reads or SessionReads(ctx.session)
    for row in await reads.all(stmt):
        severity = Severity(row["severity"])
        count, overdue = int(row["count"]), int(row["overdue"] or 0)
        _add(total, severity, row["age"], count, overdue)
        held = portfolios.get(row["portfolio_id"])
        if held is None:
            held = portfolios[row["portfolio_id"]] = {
                "portfolio_id": row["portfolio_id"],
                "portfolio_key": row["key"],
                "portfolio_name": row["name"],
                **_empty(),
            }
        _add(held, severity, row["age"], count, overdue)
    ranked = sorted(portfolios.values(), key=lambda p: (-p["open"], p["portfolio_key"] or "\uffff"))
    for part in (total, *ranked):
        part["by_severity"] = list(part["by_severity"].values())
    return {"as_of": today, **total, "portfolios": ranked}
