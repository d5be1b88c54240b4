"""Staffing over GraphQL beyond the assignments' own type (``records.py``): a person's
load per ISO week, the peak daily load (``Person.allocation``)."""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.relay import LoaderSet, to_global_id
from pmo_api.core.context import ServiceContext
from pmo_api.staffing import schemas
from pmo_api.staffing import service as staffing

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext
    from pmo_api.api.graphql.resources import Project

LazyProject = Annotated["Project", strawberry.lazy("pmo_api.api.graphql.resources")]


@strawberry.type(description="One assignment active on at least one day of the week.")
class AssignmentShare:
    assignment_id: strawberry.ID = strawberry.field(description="The assignment's global id.")
    role: str
    allocation_percent: int

    project_id: strawberry.Private[UUID]

    @strawberry.field(description="The project of the assignment.")
    async def project(self, info: GqlInfo) -> LazyProject | None:
        return await info.context.loaders.project.load(self.project_id)

    @classmethod
    def of(cls, share: schemas.WeekAssignment) -> AssignmentShare:
        return cls(
            assignment_id=to_global_id("Assignment", share.id),
            role=share.role,
            allocation_percent=share.allocation_percent,
            project_id=share.project_id,
        )


@strawberry.type(description="A person's peak daily load in one ISO week (Monday to Sunday).")
class WeekLoad:
    week_start: date = strawberry.field(description="The Monday of the week.")
    allocation_percent: int = strawberry.field(
        description="Peak daily load: the highest sum, on one day of the week, of the "
        "allocations of the assignments active that day (start to end date inclusive)."
    )
    over_allocated: bool = strawberry.field(description="Peak daily load over 100 %.")
    assignments: list[AssignmentShare] = strawberry.field(
        description="The assignments active on at least one day of the week."
    )

    @classmethod
    def of(cls, week: schemas.WeekLoad) -> WeekLoad:
        return cls(
            week_start=week.week_start,
            allocation_percent=week.allocation_percent,
            over_allocated=week.over_allocated,
            assignments=[AssignmentShare.of(a) for a in week.assignments],
        )


@strawberry.type(
    description="A person's peak daily load per ISO week over a range of weeks; archived "
    "assignments and assignments on archived projects do not count."
)
class Allocation:
    weeks: list[WeekLoad]
    over_allocated: bool = strawberry.field(
        description="Peak daily load over 100 % on at least one day of the range."
    )
    peak_allocation_percent: int = strawberry.field(
        description="The peak daily load: the highest of the weeks' loads."
    )

    @classmethod
    def of(cls, allocation: schemas.AllocationRead) -> Allocation:
        return cls(
            weeks=[WeekLoad.of(w) for w in allocation.weeks],
            over_allocated=allocation.over_allocated,
            peak_allocation_percent=allocation.peak_allocation_percent,
        )


class StaffingLoaders(LoaderSet):
    """People's loads per week: one statement per distinct range for every person being
    resolved."""

    def __init__(self, context: GraphQLContext) -> None:
        super().__init__(context)
        self.allocation = self.grouped(_allocations, Allocation.of)

    async def allocation_of(
        self, person_id: UUID, start: date | None, end: date | None
    ) -> Allocation:
        """``Person.allocation``: batched over the page of people being resolved."""
        staffing.allocation_weeks(self.context.service.now.date(), start, end)  # refuse early
        return await self.allocation.load((person_id, (start, end)))


WeekRange = tuple[date | None, date | None]
"""The range of weeks asked of a person's load."""


async def _allocations(
    ctx: ServiceContext, person_ids: list[UUID], weeks: WeekRange
) -> dict[UUID, schemas.AllocationRead]:
    start, end = weeks
    return await staffing.people_allocations(ctx, person_ids, start, end)
