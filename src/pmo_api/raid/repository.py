"""Every query of the RAID log. Every role reads every project's records (object rules
restrict writes, see projects/control.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from pmo_api.core.context import Principal
from pmo_api.core.pagination import Page, PageRequest, encode_cursor
from pmo_api.db.records import common_filters
from pmo_api.db.repository import Repository
from pmo_api.raid.models import (
    OPEN_RISK_STATUSES,
    ChangeRequest,
    ChangeStatus,
    IssueStatus,
    ProjectIssue,
    Risk,
    RiskStatus,
)
from pmo_api.raid.schemas import ChangeFilter, IssueFilter, RiskFilter

R = TypeVar("R")


async def first_pages(
    session: AsyncSession,
    model: type[R],
    *,
    columns: Mapping[str, InstrumentedAttribute[Any]],
    project_ids: Sequence[uuid.UUID],
    request: PageRequest,
    where: Sequence[ColumnElement[bool]] = (),
) -> dict[uuid.UUID, Page[R]]:
    """A page of each project's records in ONE statement, whatever the number of
    projects: ``ROW_NUMBER() OVER (PARTITION BY project_id ORDER BY sort key, id)``,
    keeping ``limit + 1`` rows per project (the extra one tells that a page follows).
    ``request.after`` is a position on the same total order, as in ``keyset_page``."""
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


class RiskRepository(Repository[Risk]):
    entity = "risk"
    model = Risk
    sortable = {
        "score": Risk.score,
        "created_at": Risk.created_at,
        "updated_at": Risk.updated_at,
        "title": Risk.title,
    }

    async def list(
        self, principal: Principal, project_id: uuid.UUID, filters: RiskFilter, page: PageRequest
    ) -> Page[Risk]:
        stmt = common_filters(self.visible_to(principal), Risk, filters)
        stmt = stmt.where(Risk.project_id == project_id)
        if filters.status:
            stmt = stmt.where(Risk.status.in_(filters.status))
        if filters.min_score is not None:
            stmt = stmt.where(Risk.score >= filters.min_score)
        if filters.owner_id is not None:
            stmt = stmt.where(Risk.owner_id == filters.owner_id)
        return await self.page(stmt, page)

    async def first_pages(
        self,
        project_ids: Sequence[uuid.UUID],
        page: PageRequest,
        status: Sequence[RiskStatus] | None,
    ) -> dict[uuid.UUID, Page[Risk]]:
        where: list[ColumnElement[bool]] = [Risk.archived_at.is_(None)]
        if status:
            where.append(Risk.status.in_(status))
        return await first_pages(
            self.session,
            Risk,
            columns=self.sortable,
            project_ids=project_ids,
            request=page,
            where=where,
        )

    async def open_counts(self, project_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """OPEN risks per project (status open or mitigating, not archived): one statement."""
        counts = {project_id: 0 for project_id in project_ids}
        if not project_ids:
            return counts
        stmt = (
            select(Risk.project_id, func.count())
            .where(
                Risk.project_id.in_(set(project_ids)),
                Risk.status.in_(OPEN_RISK_STATUSES),
                Risk.archived_at.is_(None),
            )
            .group_by(Risk.project_id)
        )
        for project_id, count in (await self.session.execute(stmt)).all():
            counts[project_id] = int(count)
        return counts


class IssueRepository(Repository[ProjectIssue]):
    entity = "issue"
    model = ProjectIssue
    sortable = {
        "created_at": ProjectIssue.created_at,
        "updated_at": ProjectIssue.updated_at,
        "title": ProjectIssue.title,
    }

    async def list(
        self,
        principal: Principal,
        project_id: uuid.UUID,
        filters: IssueFilter,
        page: PageRequest,
    ) -> Page[ProjectIssue]:
        stmt = common_filters(self.visible_to(principal), ProjectIssue, filters)
        stmt = stmt.where(ProjectIssue.project_id == project_id)
        if filters.status:
            stmt = stmt.where(ProjectIssue.status.in_(filters.status))
        if filters.severity:
            stmt = stmt.where(ProjectIssue.severity.in_(filters.severity))
        if filters.owner_id is not None:
            stmt = stmt.where(ProjectIssue.owner_id == filters.owner_id)
        return await self.page(stmt, page)

    async def first_pages(
        self,
        project_ids: Sequence[uuid.UUID],
        page: PageRequest,
        status: Sequence[IssueStatus] | None = None,
    ) -> dict[uuid.UUID, Page[ProjectIssue]]:
        where: list[ColumnElement[bool]] = [ProjectIssue.archived_at.is_(None)]
        if status:
            where.append(ProjectIssue.status.in_(status))
        return await first_pages(
            self.session,
            ProjectIssue,
            columns=self.sortable,
            project_ids=project_ids,
            request=page,
            where=where,
        )


class ChangeRepository(Repository[ChangeRequest]):
    entity = "change"
    model = ChangeRequest
    sortable = {
        "created_at": ChangeRequest.created_at,
        "updated_at": ChangeRequest.updated_at,
        "title": ChangeRequest.title,
        "budget_impact": ChangeRequest.budget_impact,
        "schedule_impact_days": ChangeRequest.schedule_impact_days,
    }

    async def list(
        self,
        principal: Principal,
        project_id: uuid.UUID,
        filters: ChangeFilter,
        page: PageRequest,
    ) -> Page[ChangeRequest]:
        stmt = common_filters(self.visible_to(principal), ChangeRequest, filters)
        stmt = stmt.where(ChangeRequest.project_id == project_id)
        if filters.status:
            stmt = stmt.where(ChangeRequest.status.in_(filters.status))
        return await self.page(stmt, page)

    async def first_pages(
        self,
        project_ids: Sequence[uuid.UUID],
        page: PageRequest,
        status: Sequence[ChangeStatus] | None = None,
    ) -> dict[uuid.UUID, Page[ChangeRequest]]:
        where: list[ColumnElement[bool]] = [ChangeRequest.archived_at.is_(None)]
        if status:
            where.append(ChangeRequest.status.in_(status))
        return await first_pages(
            self.session,
            ChangeRequest,
            columns=self.sortable,
            project_ids=project_ids,
            request=page,
            where=where,
        )
