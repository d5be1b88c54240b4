"""Every query of the schedule: milestones, deliverables, baselines.

Every role reads every project's records (see projects/control.py): ``visible_to``
hides nothing, and writes are refused by the project's object rules instead.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, with_expression
from sqlalchemy.sql.base import ExecutableOption

from pmo_api.core.context import Principal
from pmo_api.core.pagination import Page, PageRequest
from pmo_api.core.schemas import ListFilter
from pmo_api.db.records import common_filters
from pmo_api.db.repository import Repository
from pmo_api.schedule.models import (
    OPEN_MILESTONE_STATUSES,
    Baseline,
    Deliverable,
    Milestone,
    overdue_clause,
)
from pmo_api.schedule.schemas import BaselineFilter, DeliverableFilter, MilestoneFilter

R = TypeVar("R", Milestone, Deliverable, Baseline)
F = TypeVar("F", bound=ListFilter)


class ProjectRecordRepository(Repository[R], Generic[R, F]):
    """A control record's reads: one project's list, and the first page of many
    projects' lists in one statement (for nested GraphQL connections)."""

    default_sort: str

    def filtered(self, stmt: Select[Any], filters: F) -> Select[Any]:
        return common_filters(stmt, self.model, filters)

    async def list(
        self, principal: Principal, project_id: uuid.UUID, filters: F, page: PageRequest
    ) -> Page[R]:
        model: Any = self.model
        stmt = self.filtered(
            self.visible_to(principal).where(model.project_id == project_id), filters
        )
        return await self.page(stmt, page)


@functools.lru_cache(maxsize=4)
def _overdue_option(today: date) -> ExecutableOption:
    """Building the option copies its expression (about a millisecond): once a day."""
    return with_expression(Milestone.overdue, overdue_clause(today))


class MilestoneRepository(ProjectRecordRepository[Milestone, MilestoneFilter]):
    entity = "milestone"
    model = Milestone
    default_sort = "due_date"
    sortable: Mapping[str, InstrumentedAttribute[Any]] = {
        "due_date": Milestone.due_date,
        "name": Milestone.name,
        "status": Milestone.status,
        "created_at": Milestone.created_at,
        "updated_at": Milestone.updated_at,
    }

    def __init__(self, session: AsyncSession, today: date) -> None:
        super().__init__(session)
        self.today = today

    def visible_to(self, principal: Principal) -> Select[Milestone]:
        return self._select()

    def _select(self) -> Select[Milestone]:
        """Milestones, with ``overdue`` derived for ``today`` in the same query."""
        return select(Milestone).options(_overdue_option(self.today))

    def filtered(self, stmt: Select[Any], filters: MilestoneFilter) -> Select[Any]:
        stmt = common_filters(stmt, Milestone, filters)
        if filters.status:
            stmt = stmt.where(Milestone.status.in_(filters.status))
        if filters.overdue is not None:
            overdue = overdue_clause(self.today)
            stmt = stmt.where(overdue if filters.overdue else not_(overdue))
        if filters.due_from is not None:
            stmt = stmt.where(Milestone.due_date >= filters.due_from)
        if filters.due_to is not None:
            stmt = stmt.where(Milestone.due_date <= filters.due_to)
        return stmt

    async def reload(self, milestone: Milestone) -> Milestone:
        """The milestone read again after a write, so ``overdue`` matches its new state."""
        stmt = (
            self._select()
            .where(Milestone.id == milestone.id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).one()

    async def overdue_counts(self, project_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        if not project_ids:
            return {}
        stmt = (
            select(Milestone.project_id, func.count())
            .where(Milestone.project_id.in_(set(project_ids)), overdue_clause(self.today))
            .group_by(Milestone.project_id)
        )
        counts = {row[0]: int(row[1]) for row in (await self.session.execute(stmt)).all()}
        return {project_id: counts.get(project_id, 0) for project_id in project_ids}

    async def next_by_project(self, project_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Milestone]:
        """Each project's earliest-due open milestone (not done, cancelled or archived)."""
        if not project_ids:
            return {}
        position = func.row_number().over(
            partition_by=Milestone.project_id,
            order_by=(Milestone.due_date.asc(), Milestone.id.asc()),
        )
        ranked = (
            select(Milestone.id, position.label("position"))
            .where(
                Milestone.project_id.in_(set(project_ids)),
                Milestone.status.in_(OPEN_MILESTONE_STATUSES),
                Milestone.archived_at.is_(None),
            )
            .subquery()
        )
        stmt = self._select().where(
            Milestone.id.in_(select(ranked.c.id).where(ranked.c.position == 1))
        )
        return {row.project_id: row for row in (await self.session.scalars(stmt)).all()}

    async def open_on_project(self, project_id: uuid.UUID) -> list[Milestone]:
        """The project's non-archived milestones, as a baseline captures them."""
        stmt = (
            self._select()
            .where(Milestone.project_id == project_id, Milestone.archived_at.is_(None))
            .order_by(Milestone.due_date, Milestone.id)
        )
        return list((await self.session.scalars(stmt)).all())


class DeliverableRepository(ProjectRecordRepository[Deliverable, DeliverableFilter]):
    entity = "deliverable"
    model = Deliverable
    default_sort = "due_date"
    sortable: Mapping[str, InstrumentedAttribute[Any]] = {
        "due_date": Deliverable.due_date,
        "name": Deliverable.name,
        "status": Deliverable.status,
        "created_at": Deliverable.created_at,
        "updated_at": Deliverable.updated_at,
    }

    def filtered(self, stmt: Select[Any], filters: DeliverableFilter) -> Select[Any]:
        stmt = common_filters(stmt, Deliverable, filters)
        if filters.status:
            stmt = stmt.where(Deliverable.status.in_(filters.status))
        if filters.phase:
            stmt = stmt.where(Deliverable.phase == filters.phase)
        return stmt


class BaselineRepository(ProjectRecordRepository[Baseline, BaselineFilter]):
    entity = "baseline"
    model = Baseline
    default_sort = "-created_at"
    sortable: Mapping[str, InstrumentedAttribute[Any]] = {
        "created_at": Baseline.created_at,
        "name": Baseline.name,
        "updated_at": Baseline.updated_at,
    }
