"""Portfolios and programs: a tree (cycles refused) that projects belong to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict, ErrorDetail, Forbidden, InvalidInput
from pmo_api.core.pagination import ListParams, Page
from pmo_api.db import writes
from pmo_api.db.reads import Row
from pmo_api.db.records import (
    apply_changes,
    archive_record,
    check_version,
    has_live_dependents,
)
from pmo_api.db.repository import build_page_request, flush_unique
from pmo_api.events.service import create_recorded, record
from pmo_api.events.types import Event, EventType
from pmo_api.portfolios import access
from pmo_api.portfolios.models import Portfolio
from pmo_api.portfolios.repository import PortfolioRepository
from pmo_api.portfolios.schemas import PortfolioCreate, PortfolioFilter, PortfolioUpdate

ENTITY = "portfolio"
CREATES = writes.Creates(
    Portfolio.__table__,  # type: ignore[arg-type]
    references=(
        writes.Reference("owner_id", "person"),
        writes.Reference("parent_id", "portfolio"),
    ),
    entity=ENTITY,
    unique="key",
)


def _refuse_unless_editor(ctx: ServiceContext) -> None:
    if not access.can_edit(ctx.principal):
        raise Forbidden(code="role_forbidden", detail="Only pmo and admin keys change portfolios.")


async def get_portfolio(ctx: ServiceContext, ref: uuid.UUID | str) -> Portfolio:
    return await PortfolioRepository(ctx.session).require(ref, ctx.principal)


async def read_portfolio(ctx: ServiceContext, ref: uuid.UUID | str) -> Row:
    """``get_portfolio`` as a row, for a read-only request (see ``db.reads``)."""
    return await PortfolioRepository.reading(ctx).read(ctx.reads, ref, ctx.principal)


async def read_portfolios(
    ctx: ServiceContext, filters: PortfolioFilter, params: ListParams
) -> Page[Row]:
    """``list_portfolios`` as rows."""
    page = build_page_request(
        params,
        columns=PortfolioRepository.sortable,
        default_sort="key",
        filters=filters.model_dump(),
    )
    return await PortfolioRepository.reading(ctx).read_list(ctx.reads, ctx.principal, filters, page)


async def get_portfolios(ctx: ServiceContext, ids: Sequence[uuid.UUID]) -> list[Row]:
    """Batch read for DataLoaders, as rows: the same visibility as a single read."""
    return await PortfolioRepository.reading(ctx).read_many(ctx.reads, ids, ctx.principal)


async def list_portfolios(
    ctx: ServiceContext, filters: PortfolioFilter, params: ListParams
) -> Page[Portfolio]:
    page = build_page_request(
        params,
        columns=PortfolioRepository.sortable,
        default_sort="key",
        filters=filters.model_dump(),
    )
    return await PortfolioRepository(ctx.session).filtered_page(ctx.principal, filters, page)


async def create_portfolio(ctx: ServiceContext, data: PortfolioCreate) -> Row:
    """The new portfolio as a row; written in one statement where the unit of work
    allows (``db.writes``). A new portfolio has no children, so no cycle to refuse."""
    _refuse_unless_editor(ctx)
    return await create_recorded(ctx, CREATES, data.model_dump(), EventType.PORTFOLIO_CREATED)


async def update_portfolio(
    ctx: ServiceContext,
    ref: uuid.UUID | str,
    patch: PortfolioUpdate,
    expected_version: int | None,
) -> Portfolio:
    portfolio = await get_portfolio(ctx, ref)
    _refuse_unless_editor(ctx)
    check_version(ENTITY, portfolio, expected_version)
    values = patch.changes()
    await writes.check_references(ctx.session, CREATES.table, CREATES.references, values)
    new_parent = values.get("parent_id")
    if new_parent is not None:
        ancestors = await PortfolioRepository(ctx.session).ancestor_ids(new_parent)
        if portfolio.id in ancestors:
            raise InvalidInput(
                code="portfolio_cycle",
                detail="A portfolio cannot be nested inside itself or one of its descendants.",
                errors=[ErrorDetail(("body", "parent_id"), "would create a cycle", "value_error")],
            )
    changes = apply_changes(ctx, portfolio, values)
    if changes:
        await flush_unique(ctx.session, ENTITY, "key")
        await record(ctx, Event(EventType.PORTFOLIO_UPDATED, portfolio.id, changes))
    return portfolio


async def archive_portfolio(
    ctx: ServiceContext, ref: uuid.UUID | str, expected_version: int | None
) -> Portfolio:
    portfolio = await get_portfolio(ctx, ref)
    _refuse_unless_editor(ctx)
    check_version(ENTITY, portfolio, expected_version)
    if await has_live_dependents(ctx.session, Portfolio, portfolio.id):
        raise Conflict(
            code="portfolio_not_empty",
            detail="Archive or move the portfolio's projects and sub-portfolios first.",
        )
    changes = archive_record(ctx, ENTITY, portfolio)
    await ctx.session.flush()
    await record(ctx, Event(EventType.PORTFOLIO_ARCHIVED, portfolio.id, changes))
    return portfolio
