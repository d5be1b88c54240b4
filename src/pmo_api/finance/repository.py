"""Costs' queries beyond a record type's own reads (``records/repository.py``)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.finance.models import CostEntry


async def actual_cost(session: AsyncSession, project_id: uuid.UUID) -> Decimal:
    """SUM(amount) of the project's non-archived entries, computed by the database."""
    total = await session.scalar(
        select(func.coalesce(func.sum(CostEntry.amount), literal(0, CostEntry.amount.type)))
        .where(CostEntry.project_id == project_id)
        .where(CostEntry.archived_at.is_(None))
    )
    return Decimal(total or 0).quantize(Decimal("0.01"))
