"""Assignments over GraphQL: the Assignment type, its mutations, and a person's load
per ISO week, the peak daily load (``Person.allocation``)."""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.errors import (
    ChangeErrors,
    CreateErrors,
    parse_model,
)
from pmo_api.api.graphql.inputs import provided
from pmo_api.api.graphql.records import ProjectRecord, record_fields
from pmo_api.api.graphql.relay import (
    Connection,
    LoaderSet,
    keyed_ref,
    list_params,
    to_global_id,
    uuid_ref,
)
from pmo_api.core.context import ServiceContext
from pmo_api.staffing import models, schemas
from pmo_api.staffing import service as staffing
from pmo_api.staffing.schemas import AssignmentCreate, AssignmentUpdate

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext
    from pmo_api.api.graphql.people import Person
    from pmo_api.api.graphql.projects import Project

LazyProject = Annotated["Project", strawberry.lazy("pmo_api.api.graphql.projects")]
LazyPerson = Annotated["Person", strawberry.lazy("pmo_api.api.graphql.people")]

REFERENCES = {"person_id": "Person"}


@strawberry.type(description="A person working on a project for a share of their time.")
class Assignment(ProjectRecord):
    role: str
    allocation_percent: int = strawberry.field(description="Share of the person's time, 1-100.")
    start_date: date
    end_date: date

    person_id: strawberry.Private[UUID]

    @strawberry.field(description="The person assigned.")
    async def person(self, info: GqlInfo) -> LazyPerson | None:
        return await info.context.loaders.person.load(self.person_id)

    @classmethod
    def from_model(cls, assignment: models.Assignment) -> Assignment:
        return cls(
            **record_fields("Assignment", assignment),
            role=assignment.role,
            allocation_percent=assignment.allocation_percent,
            start_date=assignment.start_date,
            end_date=assignment.end_date,
            person_id=assignment.person_id,
        )


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


@strawberry.input(description="A person assigned to a project. person_id: global id or UUID.")
class CreateAssignmentInput:
    person_id: strawberry.ID
    role: str
    allocation_percent: int
    start_date: date
    end_date: date


@strawberry.input(description="Only the fields sent change.")
class UpdateAssignmentInput:
    person_id: strawberry.ID | None = strawberry.UNSET
    role: str | None = strawberry.UNSET
    allocation_percent: int | None = strawberry.UNSET
    start_date: date | None = strawberry.UNSET
    end_date: date | None = strawberry.UNSET


@strawberry.type
class AssignmentPayload:
    assignment: Assignment

    @classmethod
    def of(cls, assignment: models.Assignment) -> AssignmentPayload:
        return cls(assignment=Assignment.from_model(assignment))


CreateAssignmentResult = Annotated[
    AssignmentPayload | CreateErrors, strawberry.union("CreateAssignmentResult")
]
UpdateAssignmentResult = Annotated[
    AssignmentPayload | ChangeErrors, strawberry.union("UpdateAssignmentResult")
]
ArchiveAssignmentResult = Annotated[
    AssignmentPayload | ChangeErrors, strawberry.union("ArchiveAssignmentResult")
]


@strawberry.type
class StaffingMutation:
    @strawberry.mutation(description="Assign a person to a project (pmo, admin; a manager: own).")
    async def create_assignment(
        self,
        info: GqlInfo,
        project_id: Annotated[
            strawberry.ID, strawberry.argument(description="The project's global id, UUID or key.")
        ],
        input: CreateAssignmentInput,
    ) -> CreateAssignmentResult:
        ref = keyed_ref(project_id, "Project", "projectId")
        data = parse_model(AssignmentCreate, provided(input, REFERENCES))
        return await info.context.change(
            lambda ctx: staffing.create_assignment(ctx, ref, data), AssignmentPayload.of
        )

    @strawberry.mutation(description="Change the fields sent.")
    async def update_assignment(
        self,
        info: GqlInfo,
        id: strawberry.ID,
        input: UpdateAssignmentInput,
        expected_version: int | None = None,
    ) -> UpdateAssignmentResult:
        assignment_id = uuid_ref(id, "Assignment")
        patch = parse_model(AssignmentUpdate, provided(input, REFERENCES))
        return await info.context.change(
            lambda ctx: staffing.update_assignment(ctx, assignment_id, patch, expected_version),
            AssignmentPayload.of,
        )

    @strawberry.mutation(description="Archive an assignment: it no longer counts in loads.")
    async def archive_assignment(
        self, info: GqlInfo, id: strawberry.ID, expected_version: int | None = None
    ) -> ArchiveAssignmentResult:
        assignment_id = uuid_ref(id, "Assignment")
        return await info.context.change(
            lambda ctx: staffing.archive_assignment(ctx, assignment_id, expected_version),
            AssignmentPayload.of,
        )


class StaffingLoaders(LoaderSet):
    """The per-request loaders of assignments: by id, each project's first page, and
    people's loads per week (one statement per distinct range for every person being
    resolved)."""

    def __init__(self, context: GraphQLContext) -> None:
        super().__init__(context)
        self.assignment = self.nodes(
            "Assignment", "assignment", staffing.get_assignments, Assignment.from_model
        )
        self.project_assignments = self.pages(
            staffing.first_assignments_of_projects, Assignment.from_model
        )
        self.allocation = self.grouped(_allocations, Allocation.of)

    async def assignments_of(
        self, project_id: UUID, first: int | None, after: str | None
    ) -> Connection[Assignment]:
        """``Project.assignments``: batched over the page of projects being resolved."""
        params = list_params(first, after, None)
        return await self.project_assignments.load((project_id, params))

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
