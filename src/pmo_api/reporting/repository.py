from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.orm import aliased

from pmo_api.core.context import Principal
from pmo_api.core.pagination import Page, PageRequest
from pmo_api.db.records import common_filters
from pmo_api.db.repository import Repository
from pmo_api.reporting.models import ReportState, StatusReport
from pmo_api.reporting.schemas import StatusReportFilter

SUBMITTED = StatusReport.state == ReportState.SUBMITTED


class StatusReportRepository(Repository[StatusReport]):
    """Every role reads every project's status reports (object rules restrict writes)."""

    entity = "status_report"
    model = StatusReport
    sortable = {
        "period_end": StatusReport.period_end,
        "created_at": StatusReport.created_at,
        "updated_at": StatusReport.updated_at,
        "submitted_at": StatusReport.submitted_at,
    }

    async def list(
        self,
        principal: Principal,
        project_id: uuid.UUID,
        filters: StatusReportFilter,
        page: PageRequest,
    ) -> Page[StatusReport]:
        stmt = self.visible_to(principal).where(StatusReport.project_id == project_id)
        stmt = common_filters(stmt, StatusReport, filters)
        if filters.state:
            stmt = stmt.where(StatusReport.state.in_(filters.state))
        if filters.period_from is not None:
            stmt = stmt.where(StatusReport.period_end >= filters.period_from)
        if filters.period_to is not None:
            stmt = stmt.where(StatusReport.period_start <= filters.period_to)
        if filters.overall_health:
            stmt = stmt.where(StatusReport.overall_health.in_(filters.overall_health))
        if page.sort.field == "submitted_at":
            # Drafts have no submission time: a walk by it lists submitted reports only
            # (a NULL sort key has no place in a keyset order).
            stmt = stmt.where(StatusReport.submitted_at.is_not(None))
        return await self.page(stmt, page)

    async def latest_submitted(
        self, principal: Principal, project_ids: Sequence[uuid.UUID]
    ) -> builtins.list[StatusReport]:
        """Each project's latest submitted report (by period end, then submission time),
        in one statement."""
        if not project_ids:
            return []
        rank = (
            func.row_number()
            .over(
                partition_by=StatusReport.project_id,
                order_by=(
                    StatusReport.period_end.desc(),
                    StatusReport.submitted_at.desc(),
                    StatusReport.id.desc(),
                ),
            )
            .label("rank")
        )
        ranked = (
            self.visible_to(principal)
            .add_columns(rank)
            .where(StatusReport.project_id.in_(set(project_ids)), SUBMITTED)
            .where(StatusReport.archived_at.is_(None))
            .subquery()
        )
        report = aliased(StatusReport, ranked)
        stmt = select(report).where(ranked.c.rank == 1)
        return list((await self.session.scalars(stmt)).all())

    async def previous_submitted_ids(
        self, reports: Sequence[StatusReport]
    ) -> dict[uuid.UUID, uuid.UUID | None]:
        """For each report, the submitted report of its project just before it, by period
        end then submission time, in one statement. A draft comes after every submitted
        report of its period end (it would be the latest if submitted now)."""
        if not reports:
            return {}
        prev = aliased(StatusReport)
        this = StatusReport
        before = (
            select(prev.id)
            .where(
                prev.project_id == this.project_id,
                prev.state == ReportState.SUBMITTED,
                prev.archived_at.is_(None),
                prev.id != this.id,
                or_(
                    and_(this.submitted_at.is_(None), prev.period_end <= this.period_end),
                    tuple_(prev.period_end, prev.submitted_at, prev.id)
                    < tuple_(this.period_end, this.submitted_at, this.id),
                ),
            )
            .order_by(prev.period_end.desc(), prev.submitted_at.desc(), prev.id.desc())
            .limit(1)
            .correlate(this)
            .scalar_subquery()
        )
        stmt = select(this.id, before).where(this.id.in_({report.id for report in reports}))
        return {row[0]: row[1] for row in (await self.session.execute(stmt)).all()}

    async def submitted_after(self, report: StatusReport) -> bool:
        """Whether another submitted report of the project covers a later period end."""
        stmt = select(
            select(StatusReport.id)
            .where(
                StatusReport.project_id == report.project_id,
                SUBMITTED,
                StatusReport.archived_at.is_(None),
                StatusReport.id != report.id,
                StatusReport.period_end > report.period_end,
            )
            .exists()
        )
        return bool(await self.session.scalar(stmt))

    async def overlapping_submitted(
        self, project_id: uuid.UUID, start: date, end: date, exclude: uuid.UUID
    ) -> StatusReport | None:
        """A submitted report of the project whose period shares a day with [start, end]."""
        stmt = (
            select(StatusReport)
            .where(
                StatusReport.project_id == project_id,
                SUBMITTED,
                StatusReport.archived_at.is_(None),
                StatusReport.id != exclude,
                and_(StatusReport.period_start <= end, StatusReport.period_end >= start),
            )
            .order_by(StatusReport.period_end)
            .limit(1)
        )
        found: StatusReport | None = await self.session.scalar(stmt)
        return found
