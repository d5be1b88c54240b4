from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from pmo_api.core.context import Principal
from pmo_api.core.pagination import Page, PageRequest, encode_cursor
from pmo_api.db.records import common_filters
from pmo_api.db.repository import Repository
from pmo_api.finance.models import CostEntry
from pmo_api.finance.schemas import CostFilter

R = TypeVar("R")


async def pages_per_project(
    session: AsyncSession,
    model: type[R],
    *,
    columns: Mapping[str, InstrumentedAttribute[Any]],
    project_ids: Sequence[uuid.UUID],
    request: PageRequest,
    where: Sequence[ColumnElement[bool]] = (),
) -> dict[uuid.UUID, Page[R]]:
    """The first page of each project's records, in ONE statement whatever the number of
    projects: ``ROW_NUMBER() OVER (PARTITION BY project_id ORDER BY sort key, id)``, keeping
    ``limit + 1`` rows per project (the extra row tells that another page follows).

    ``request.after`` is a position on the same total order (sort key, id), so a cursor of
    one project's page continues that project's walk as ``keyset_page`` would.
    """
    if not project_ids:
        return {}
    table: Any = model
    sort_col = columns[request.sort.field]
    desc = request.sort.descending
    order = (sort_col.desc(), table.id.desc()) if desc else (sort_col.asc(), table.id.asc())
    position = func.row_number().over(partition_by=table.project_id, order_by=order)
    inner = select(table, position.label("position")).where(
        table.project_id.in_(set(project_ids)), *where
    )
    if request.after is not None:
        key = tuple_(sort_col, table.id)
        after = tuple_(
            literal(request.after.value, sort_col.type), literal(request.after.id, table.id.type)
        )
        inner = inner.where(key < after if desc else key > after)
    ranked = inner.subquery()
    row = aliased(model, ranked)
    stmt = (
        select(row)
        .where(ranked.c.position <= request.limit + 1)
        .order_by(ranked.c.project_id, ranked.c.position)
    )
    grouped: dict[uuid.UUID, list[R]] = {project_id: [] for project_id in project_ids}
    for item in (await session.scalars(stmt)).all():
        grouped[item.project_id].append(item)  # type: ignore[attr-defined]
    pages: dict[uuid.UUID, Page[R]] = {}
    for project_id, rows in grouped.items():
        items = rows[: request.limit]
        next_cursor = None
        if len(rows) > request.limit:
            last: Any = items[-1]
            next_cursor = encode_cursor(
                request.fingerprint, getattr(last, request.sort.field), last.id
            )
        pages[project_id] = Page(items=items, next_cursor=next_cursor)
    return pages


class CostRepository(Repository[CostEntry]):
    """Every role reads every project's costs; writes follow the project's object rules."""

    entity = "cost"
    model = CostEntry
    sortable = {
        "incurred_on": CostEntry.incurred_on,
        "amount": CostEntry.amount,
        "created_at": CostEntry.created_at,
        "updated_at": CostEntry.updated_at,
    }

    async def list(
        self,
        principal: Principal,
        project_id: uuid.UUID,
        filters: CostFilter,
        page: PageRequest,
    ) -> Page[CostEntry]:
        stmt = common_filters(self.visible_to(principal), CostEntry, filters)
        stmt = stmt.where(CostEntry.project_id == project_id)
        if filters.category:
            stmt = stmt.where(CostEntry.category.in_(filters.category))
        if filters.incurred_from is not None:
            stmt = stmt.where(CostEntry.incurred_on >= filters.incurred_from)
        if filters.incurred_to is not None:
            stmt = stmt.where(CostEntry.incurred_on <= filters.incurred_to)
        return await self.page(stmt, page)

    async def first_pages(
        self, project_ids: Sequence[uuid.UUID], page: PageRequest
    ) -> dict[uuid.UUID, Page[CostEntry]]:
        """The first page of each project's non-archived costs (one statement)."""
        return await pages_per_project(
            self.session,
            CostEntry,
            columns=self.sortable,
            project_ids=project_ids,
            request=page,
            where=(CostEntry.archived_at.is_(None),),
        )

    async def actual_cost(self, project_id: uuid.UUID) -> Decimal:
        """SUM(amount) of the project's non-archived entries, computed by the database."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(CostEntry.amount), literal(0, CostEntry.amount.type)))
            .where(CostEntry.project_id == project_id)
            .where(CostEntry.archived_at.is_(None))
        )
        return Decimal(total or 0).quantize(Decimal("0.01"))
