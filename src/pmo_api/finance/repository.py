from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, literal, select

from pmo_api.core.context import Principal
from pmo_api.core.pagination import Page, PageRequest
from pmo_api.db.records import common_filters
from pmo_api.db.repository import Repository
from pmo_api.finance.models import CostEntry
from pmo_api.finance.schemas import CostFilter


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

    async def actual_cost(self, project_id: uuid.UUID) -> Decimal:
        """SUM(amount) of the project's non-archived entries, computed by the database."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(CostEntry.amount), literal(0, CostEntry.amount.type)))
            .where(CostEntry.project_id == project_id)
            .where(CostEntry.archived_at.is_(None))
        )
        return Decimal(total or 0).quantize(Decimal("0.01"))
