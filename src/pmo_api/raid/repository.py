"""The RAID log's queries beyond a record type's own reads (``records/repository.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.raid.models import Risk, open_risk_clause


async def open_risk_counts(
    session: AsyncSession, project_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """OPEN risks per project (status open or mitigating, not archived): one statement."""
    counts = {project_id: 0 for project_id in project_ids}
    if not project_ids:
        return counts
    stmt = (
        select(Risk.project_id, func.count())
        .where(Risk.project_id.in_(set(project_ids)), open_risk_clause())
        .group_by(Risk.project_id)
    )
    for project_id, count in (await session.execute(stmt)).all():
        counts[project_id] = int(count)
    return counts
