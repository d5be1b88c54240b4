from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import InstrumentedAttribute, aliased

from pmo_api.core.context import Principal
from pmo_api.core.pagination import Page, PageRequest
from pmo_api.db.records import common_filters
from pmo_api.db.repository import Repository
from pmo_api.finance.repository import pages_per_project
from pmo_api.staffing.models import Assignment
from pmo_api.staffing.schemas import AssignmentFilter

OVER_ALLOCATED_ABOVE = 100


def over_allocated(person_id: InstrumentedAttribute[uuid.UUID]) -> ColumnElement[bool]:
    """True for a person whose load exceeds 100 % in some week, computed by the database.

    A person's load only rises in a week where one of their assignments starts, so the
    peak week is the first week of some assignment ``a1``: the person is over-allocated
    when, for some ``a1``, the assignments touching ``a1``'s first week sum above 100.
    """
    a1, a2 = aliased(Assignment), aliased(Assignment)
    load = (
        select(func.sum(a2.allocation_percent))
        .where(a2.person_id == a1.person_id)
        .where(a2.first_week <= a1.first_week)
        .where(a2.last_week >= a1.first_week)
        .where(a2.archived_at.is_(None))
        .scalar_subquery()
    )
    return exists().where(
        a1.person_id == person_id, a1.archived_at.is_(None), load > OVER_ALLOCATED_ABOVE
    )


class AssignmentRepository(Repository[Assignment]):
    """Every role reads every project's assignments; writes follow the project's rules."""

    entity = "assignment"
    model = Assignment
    sortable = {
        "start_date": Assignment.start_date,
        "end_date": Assignment.end_date,
        "allocation_percent": Assignment.allocation_percent,
        "created_at": Assignment.created_at,
        "updated_at": Assignment.updated_at,
    }

    async def list(
        self,
        principal: Principal,
        project_id: uuid.UUID,
        filters: AssignmentFilter,
        page: PageRequest,
    ) -> Page[Assignment]:
        stmt = common_filters(self.visible_to(principal), Assignment, filters)
        stmt = stmt.where(Assignment.project_id == project_id)
        if filters.person_id is not None:
            stmt = stmt.where(Assignment.person_id == filters.person_id)
        if filters.active_on is not None:
            stmt = stmt.where(
                Assignment.start_date <= filters.active_on,
                Assignment.end_date >= filters.active_on,
            )
        return await self.page(stmt, page)

    async def first_pages(
        self, project_ids: Sequence[uuid.UUID], page: PageRequest
    ) -> dict[uuid.UUID, Page[Assignment]]:
        """The first page of each project's non-archived assignments (one statement)."""
        return await pages_per_project(
            self.session,
            Assignment,
            columns=self.sortable,
            project_ids=project_ids,
            request=page,
            where=(Assignment.archived_at.is_(None),),
        )

    async def touching_weeks(
        self, person_ids: Sequence[uuid.UUID], first_week: date, last_week: date
    ) -> Sequence[Assignment]:
        """The people's non-archived assignments that touch the weeks from ``first_week``
        to ``last_week`` (Mondays), in one statement."""
        stmt = (
            select(Assignment)
            .where(Assignment.person_id.in_(set(person_ids)))
            .where(Assignment.archived_at.is_(None))
            .where(Assignment.first_week <= last_week)
            .where(Assignment.last_week >= first_week)
            .order_by(Assignment.person_id, Assignment.start_date, Assignment.id)
        )
        return (await self.session.scalars(stmt)).all()
