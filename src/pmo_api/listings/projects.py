"""Project lists with each project's open risk count, counted in the list's statement:
the REST list's column (bound to the declaration's ``listed`` value in ``control.py``)
and GraphQL's nested pages of many portfolios' projects."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import with_expression
from sqlalchemy.sql.base import ExecutableOption

from pmo_api.core.context import ServiceContext
from pmo_api.core.pagination import ListParams, Page, PageCursors, SortSpec, fingerprint
from pmo_api.db.reads import SessionReads
from pmo_api.db.repository import build_page_request, page_of
from pmo_api.projects.declaration import PROJECTS, ProjectRepository
from pmo_api.projects.models import Project
from pmo_api.raid.models import Risk, open_risk_clause


async def list_projects(ctx: ServiceContext, filters: Any, params: ListParams) -> Page[Project]:
    page = build_page_request(
        params,
        columns=PROJECTS.sortable,
        default_sort=PROJECTS.default_sort,
        filters=filters.model_dump(),
    )
    if PROJECTS.preparers:  # the compliance filters read the rules in force first
        filters = await PROJECTS.prepared(ctx.reads or SessionReads(ctx.session), filters)
    return await ProjectRepository(ctx.session).filtered_page(
        ctx.principal,
        filters,
        page,
        options=(_with_open_risks(),),
    )


async def projects_of_portfolios(
    ctx: ServiceContext,
    portfolio_ids: Sequence[uuid.UUID],
    filters: Any,
    params: ListParams,
) -> dict[uuid.UUID, Page[Project]]:
    """Each portfolio's page of ``list_projects`` (``filters`` with the portfolio set to
    it), for nested GraphQL connections: one statement for the first pages of all the
    portfolios, with each portfolio's own cursors. A cursor belongs to one portfolio's
    list: with one, each page is its list's (and a cursor of another list is refused)."""

    def own(portfolio_id: uuid.UUID) -> Any:
        return filters.model_copy(update={"portfolio_id": portfolio_id})

    if params.cursor:
        return {pid: await list_projects(ctx, own(pid), params) for pid in portfolio_ids}
    page = build_page_request(
        params,
        columns=PROJECTS.sortable,
        default_sort=PROJECTS.default_sort,
        filters=filters.model_dump(),
    )
    rows = await ProjectRepository(ctx.session).first_rows_per_portfolio(
        ctx.principal, portfolio_ids, filters, page, options=(_with_open_risks(),)
    )
    pages: dict[uuid.UUID, Page[Project]] = {}
    for portfolio_id, found in rows.items():
        bound = functools.partial(_list_fingerprint, own(portfolio_id), page.sort)
        pages[portfolio_id] = page_of(found, page.limit, PageCursors(page.sort.field, bound))
    return pages


def _list_fingerprint(filters: Any, sort: SortSpec) -> str:
    return fingerprint(filters.model_dump(), sort)


@functools.cache
def open_risk_count() -> ColumnElement[int]:
    """A project's open risks, counted in its list's statement (index on risks
    (project_id, status)). Built once: building copies the whole expression."""
    return (
        select(func.count())
        .where(Risk.project_id == Project.id, open_risk_clause())
        .correlate(Project)
        .scalar_subquery()
        .label("open_risk_count")
    )


@functools.cache
def _with_open_risks() -> ExecutableOption:
    """Load a listed project's open risks, counted in the list's statement (index on
    risks (project_id, status)). Built once: the option is immutable, and building it
    copies the whole expression (milliseconds per request)."""
    count = (
        select(func.count())
        .where(
            Risk.project_id == Project.id,
            open_risk_clause(),
        )
        .correlate(Project)
        .scalar_subquery()
    )
    return with_expression(Project.open_risk_count, count)
