"""Status reports' queries beyond a record type's own reads (``records/repository.py``):
the latest and the previous submitted report, overlaps."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from pmo_api.reporting.models import ReportState, StatusReport

SUBMITTED = StatusReport.state == ReportState.SUBMITTED


async def by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[StatusReport]:
    """Reports by id, one statement; what is not there is left out."""
    if not ids:
        return []
    stmt = select(StatusReport).where(StatusReport.id.in_(set(ids)))
    return list((await session.scalars(stmt)).all())


async def latest_submitted(
    session: AsyncSession, project_ids: Sequence[uuid.UUID]
) -> list[StatusReport]:
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
        select(StatusReport)
        .add_columns(rank)
        .where(StatusReport.project_id.in_(set(project_ids)), SUBMITTED)
        .where(StatusReport.archived_at.is_(None))
        .subquery()
    )
    report = aliased(StatusReport, ranked)
    stmt = select(report).where(ranked.c.rank == 1)
    return list((await session.scalars(stmt)).all())


async def previous_submitted_ids(
    session: AsyncSession, reports: Sequence[StatusReport]
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
    return {row[0]: row[1] for row in (await session.execute(stmt)).all()}


async def submitted_after(session: AsyncSession, report: StatusReport) -> bool:
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
    return bool(await session.scalar(stmt))


async def overlapping_submitted(
    session: AsyncSession, project_id: uuid.UUID, start: date, end: date, exclude: uuid.UUID
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
    found: StatusReport | None = await session.scalar(stmt)
    return found
