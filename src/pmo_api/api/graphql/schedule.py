"""A project's schedule over GraphQL: milestones, deliverables and baselines, their
mutations, the comparison of plans, and the batched fields the Project type reaches
them by (``milestones``, ``nextMilestone``, ``overdueMilestoneCount``, ``baseline``...)."""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from datetime import date, datetime
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
from pmo_api.api.graphql.people import Person
from pmo_api.api.graphql.records import ProjectRecord, load_person, record_fields
from pmo_api.api.graphql.relay import (
    Connection,
    LoaderSet,
    Node,
    keyed_ref,
    list_params,
    to_global_id,
    uuid_ref,
)
from pmo_api.api.graphql.scalars import Money
from pmo_api.core.context import ServiceContext
from pmo_api.core.pagination import ListParams, Page
from pmo_api.schedule import models
from pmo_api.schedule import schemas as plans
from pmo_api.schedule import service as schedule
from pmo_api.schedule.models import DeliverableStatus, MilestoneStatus
from pmo_api.schedule.schemas import (
    BaselineCreate,
    BaselineFilter,
    DeliverableCreate,
    DeliverableFilter,
    DeliverableUpdate,
    MilestoneCreate,
    MilestoneFilter,
    MilestoneUpdate,
)

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext
    from pmo_api.api.graphql.projects import Project

strawberry.enum(MilestoneStatus, description="Where a milestone stands.")
strawberry.enum(DeliverableStatus, description="Where a deliverable stands, up to acceptance.")

LazyProject = Annotated["Project", strawberry.lazy("pmo_api.api.graphql.projects")]

PROJECT_ID_DESCRIPTION = "The project's global id, UUID or key."


# -- types -----------------------------------------------------------------------------------


@strawberry.type(description="A dated point of a project's plan.")
class Milestone(ProjectRecord):
    name: str
    description: str | None
    due_date: date
    done_date: date | None = strawberry.field(description="Set when the status is done.")
    status: MilestoneStatus
    overdue: bool = strawberry.field(
        description="Derived: planned or in progress, due before today, not archived."
    )

    @classmethod
    def from_model(cls, m: models.Milestone) -> Milestone:
        return cls(
            **record_fields("Milestone", m),
            name=m.name,
            description=m.description,
            due_date=m.due_date,
            done_date=m.done_date,
            status=m.status,
            overdue=bool(m.overdue),
        )


@strawberry.type(description="A product of a project's work, submitted for acceptance.")
class Deliverable(ProjectRecord):
    name: str
    description: str | None
    phase: str | None
    due_date: date
    status: DeliverableStatus
    accepted_by: str | None = strawberry.field(description="The API key that accepted it.")
    accepted_at: datetime | None
    accepted_by_person_id: strawberry.Private[UUID | None]

    @strawberry.field(description="The person the accepting key acts for, if any.")
    async def accepted_by_person(self, info: GqlInfo) -> Person | None:
        return await load_person(info, self.accepted_by_person_id)

    @classmethod
    def from_model(cls, d: models.Deliverable) -> Deliverable:
        return cls(
            **record_fields("Deliverable", d),
            name=d.name,
            description=d.description,
            phase=d.phase,
            due_date=d.due_date,
            status=d.status,
            accepted_by=d.accepted_by,
            accepted_at=d.accepted_at,
            accepted_by_person_id=d.accepted_by_person_id,
        )


@strawberry.type(description="A milestone as a baseline (or the current plan) holds it.")
class PlannedMilestone:
    milestone_id: strawberry.ID = strawberry.field(description="The milestone's global id.")
    uuid: UUID = strawberry.field(description="The milestone's REST id.")
    name: str
    due_date: date
    status: MilestoneStatus

    @classmethod
    def of(cls, m: plans.BaselineMilestone) -> PlannedMilestone:
        return cls(
            milestone_id=to_global_id("Milestone", m.id),
            uuid=m.id,
            name=m.name,
            due_date=m.due_date,
            status=m.status,
        )


@strawberry.type(description="One side of a comparison: a baseline or the current plan.")
class PlanSnapshot:
    kind: str = strawberry.field(description="baseline or current.")
    baseline_id: strawberry.ID | None = strawberry.field(description="Null for the current plan.")
    name: str | None
    captured_at: datetime | None = strawberry.field(
        description="When the baseline was captured, or the plan read."
    )
    planned_start: date | None
    planned_end: date | None
    planned_budget: Money


@strawberry.type(description="A date in both plans, and the days between.")
class PlanDateChange:
    from_: date | None = strawberry.field(name="from")
    to: date | None
    days: int | None = strawberry.field(description="to - from; null when either is missing.")


@strawberry.type(description="An amount in both plans, and the difference.")
class PlanMoneyChange:
    from_: Money = strawberry.field(name="from")
    to: Money
    delta: Money = strawberry.field(description="to - from; negative when it shrank.")


@strawberry.type(description="How the plan's dates and budget changed.")
class PlanChanges:
    planned_start: PlanDateChange
    planned_end: PlanDateChange
    planned_budget: PlanMoneyChange


@strawberry.type(description="A milestone in both plans with another due date.")
class PlanMilestoneMove:
    milestone_id: strawberry.ID
    uuid: UUID
    name: str
    from_: date = strawberry.field(name="from")
    to: date
    days: int


@strawberry.type(description="Milestones added, removed and moved between the plans.")
class PlanMilestoneChanges:
    added: list[PlannedMilestone]
    removed: list[PlannedMilestone]
    moved: list[PlanMilestoneMove]


@strawberry.type(description="A baseline compared with the current plan or another baseline.")
class BaselineComparison:
    from_: PlanSnapshot = strawberry.field(name="from")
    to: PlanSnapshot
    changes: PlanChanges
    milestones: PlanMilestoneChanges

    @classmethod
    def of(cls, c: plans.BaselineComparison) -> BaselineComparison:
        def snapshot(p: plans.BaselinePlan) -> PlanSnapshot:
            return PlanSnapshot(
                kind=p.kind,
                baseline_id=None
                if p.baseline_id is None
                else to_global_id("Baseline", p.baseline_id),
                name=p.name,
                captured_at=p.captured_at,
                planned_start=p.planned_start,
                planned_end=p.planned_end,
                planned_budget=Money(p.planned_budget),
            )

        def dates(d: plans.BaselineDateChange) -> PlanDateChange:
            return PlanDateChange(from_=d.from_, to=d.to, days=d.days)

        budget = c.changes.planned_budget
        return cls(
            from_=snapshot(c.from_),
            to=snapshot(c.to),
            changes=PlanChanges(
                planned_start=dates(c.changes.planned_start),
                planned_end=dates(c.changes.planned_end),
                planned_budget=PlanMoneyChange(
                    from_=Money(budget.from_), to=Money(budget.to), delta=Money(budget.delta)
                ),
            ),
            milestones=PlanMilestoneChanges(
                added=[PlannedMilestone.of(m) for m in c.milestones.added],
                removed=[PlannedMilestone.of(m) for m in c.milestones.removed],
                moved=[
                    PlanMilestoneMove(
                        milestone_id=to_global_id("Milestone", m.id),
                        uuid=m.id,
                        name=m.name,
                        from_=m.from_,
                        to=m.to,
                        days=m.days,
                    )
                    for m in c.milestones.moved
                ],
            ),
        )


@strawberry.type(description="An immutable capture of a project's plan: dates, budget, milestones.")
class Baseline(Node):
    uuid: UUID = strawberry.field(description="The REST id.")
    name: str
    description: str | None
    planned_start: date | None
    planned_end: date | None
    planned_budget: Money
    milestones: list[PlannedMilestone] = strawberry.field(
        description="The project's non-archived milestones when captured."
    )
    captured_by: str = strawberry.field(description="The API key that captured it.")
    created_at: datetime = strawberry.field(description="When the baseline was captured.")
    project_id: strawberry.Private[UUID]
    captured_by_person_id: strawberry.Private[UUID | None]

    @strawberry.field(description="The project the baseline belongs to.")
    async def project(self, info: GqlInfo) -> LazyProject | None:
        return await info.context.loaders.project.load(self.project_id)

    @strawberry.field(description="The person the capturing key acts for, if any.")
    async def captured_by_person(self, info: GqlInfo) -> Person | None:
        return await load_person(info, self.captured_by_person_id)

    @strawberry.field(
        description="This baseline compared with the project's current plan, or with "
        "another baseline of the same project (`with`)."
    )
    async def compare(
        self,
        info: GqlInfo,
        with_: Annotated[
            strawberry.ID | None,
            strawberry.argument(name="with", description="Another baseline's id."),
        ] = None,
    ) -> BaselineComparison:
        other = None if with_ is None else uuid_ref(with_, "Baseline", "with")
        return await info.context.fetch(
            lambda ctx: schedule.compare_baseline(ctx, self.uuid, other), BaselineComparison.of
        )

    @classmethod
    def from_model(cls, b: models.Baseline) -> Baseline:
        return cls(
            id=to_global_id("Baseline", b.id),
            uuid=b.id,
            name=b.name,
            description=b.description,
            planned_start=b.planned_start,
            planned_end=b.planned_end,
            planned_budget=Money(b.planned_budget),
            milestones=[
                PlannedMilestone.of(plans.BaselineMilestone.model_validate(m)) for m in b.milestones
            ],
            captured_by=b.captured_by,
            created_at=b.created_at,
            project_id=b.project_id,
            captured_by_person_id=b.captured_by_person_id,
        )


# -- the Project type's schedule fields, batched ----------------------------------------------


class ScheduleLoaders(LoaderSet):
    """Per-request loaders of the schedule: one statement per field for a whole page of
    projects (the same arguments are one batch; other arguments, another)."""

    def __init__(self, context: GraphQLContext) -> None:
        super().__init__(context)
        self.milestone = self.nodes(
            "Milestone", "milestone", schedule.get_milestones, Milestone.from_model
        )
        self.deliverable = self.nodes(
            "Deliverable", "deliverable", schedule.get_deliverables, Deliverable.from_model
        )
        self.baseline = self.nodes(
            "Baseline", "baseline", schedule.get_baselines, Baseline.from_model
        )
        self.next_milestone = self.keyed(schedule.next_milestones, Milestone.from_model, None)
        self.overdue_milestone_count = self.keyed(_overdue_counts, int, 0)
        self.milestones = self.pages(_milestone_pages, Milestone.from_model)
        self.deliverables = self.pages(_deliverable_pages, Deliverable.from_model)
        self.baselines = self.pages(_baseline_pages, Baseline.from_model)

    async def milestones_of(
        self, project_id: UUID, first: int | None, after: str | None, overdue: bool | None
    ) -> Connection[Milestone]:
        args: MilestonePageArgs = (list_params(first, after, None), overdue)
        return await self.milestones.load((project_id, args))

    async def deliverables_of(
        self, project_id: UUID, first: int | None, after: str | None
    ) -> Connection[Deliverable]:
        return await self.deliverables.load((project_id, list_params(first, after, None)))

    async def baselines_of(
        self, project_id: UUID, first: int | None, after: str | None
    ) -> Connection[Baseline]:
        return await self.baselines.load((project_id, list_params(first, after, None)))


async def _overdue_counts(ctx: ServiceContext, project_ids: list[UUID]) -> dict[UUID, int]:
    return await schedule.overdue_milestone_counts(ctx, project_ids, ctx.now.date())


MilestonePageArgs = tuple[ListParams, bool | None]


async def _milestone_pages(
    ctx: ServiceContext, project_ids: list[UUID], args: MilestonePageArgs
) -> dict[UUID, Page[models.Milestone]]:
    params, overdue = args
    return await schedule.milestone_pages(
        ctx, project_ids, MilestoneFilter(overdue=overdue), params
    )


async def _deliverable_pages(
    ctx: ServiceContext, project_ids: list[UUID], params: ListParams
) -> dict[UUID, Page[models.Deliverable]]:
    return await schedule.deliverable_pages(ctx, project_ids, DeliverableFilter(), params)


async def _baseline_pages(
    ctx: ServiceContext, project_ids: list[UUID], params: ListParams
) -> dict[UUID, Page[models.Baseline]]:
    return await schedule.baseline_pages(ctx, project_ids, BaselineFilter(), params)


# -- inputs, payloads, queries and mutations -------------------------------------------------


@strawberry.input(description="A new milestone.")
class CreateMilestoneInput:
    name: str
    due_date: date
    description: str | None = strawberry.UNSET
    status: MilestoneStatus | None = strawberry.UNSET
    done_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="Only with status done; today when omitted."
    )


@strawberry.input(description="Only the fields sent change; null clears where allowed.")
class UpdateMilestoneInput:
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    due_date: date | None = strawberry.UNSET
    status: MilestoneStatus | None = strawberry.UNSET
    done_date: date | None = strawberry.UNSET


@strawberry.input(description="A new deliverable.")
class CreateDeliverableInput:
    name: str
    due_date: date
    description: str | None = strawberry.UNSET
    phase: str | None = strawberry.UNSET
    status: DeliverableStatus | None = strawberry.UNSET


@strawberry.input(description="Only the fields sent change; null clears where allowed.")
class UpdateDeliverableInput:
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    phase: str | None = strawberry.UNSET
    due_date: date | None = strawberry.UNSET
    status: DeliverableStatus | None = strawberry.UNSET


@strawberry.input(description="A name for the capture of the project's current plan.")
class CaptureBaselineInput:
    name: str
    description: str | None = strawberry.UNSET


@strawberry.type
class MilestonePayload:
    milestone: Milestone

    @classmethod
    def of(cls, m: models.Milestone) -> MilestonePayload:
        return cls(milestone=Milestone.from_model(m))


@strawberry.type
class DeliverablePayload:
    deliverable: Deliverable

    @classmethod
    def of(cls, d: models.Deliverable) -> DeliverablePayload:
        return cls(deliverable=Deliverable.from_model(d))


@strawberry.type
class BaselinePayload:
    baseline: Baseline

    @classmethod
    def of(cls, b: models.Baseline) -> BaselinePayload:
        return cls(baseline=Baseline.from_model(b))


CreateMilestoneResult = Annotated[
    MilestonePayload | CreateErrors, strawberry.union("CreateMilestoneResult")
]
UpdateMilestoneResult = Annotated[
    MilestonePayload | ChangeErrors, strawberry.union("UpdateMilestoneResult")
]
ArchiveMilestoneResult = Annotated[
    MilestonePayload | ChangeErrors, strawberry.union("ArchiveMilestoneResult")
]
CreateDeliverableResult = Annotated[
    DeliverablePayload | CreateErrors, strawberry.union("CreateDeliverableResult")
]
UpdateDeliverableResult = Annotated[
    DeliverablePayload | ChangeErrors, strawberry.union("UpdateDeliverableResult")
]
ArchiveDeliverableResult = Annotated[
    DeliverablePayload | ChangeErrors, strawberry.union("ArchiveDeliverableResult")
]
CaptureBaselineResult = Annotated[
    BaselinePayload | CreateErrors, strawberry.union("CaptureBaselineResult")
]

ProjectId = Annotated[strawberry.ID, strawberry.argument(description=PROJECT_ID_DESCRIPTION)]


@strawberry.type
class ScheduleQuery:
    @strawberry.field(description="One milestone by global id or UUID.")
    async def milestone(self, info: GqlInfo, id: strawberry.ID) -> Milestone | None:
        return await info.context.loaders.schedule.milestone.load(uuid_ref(id, "Milestone"))

    @strawberry.field(description="One deliverable by global id or UUID.")
    async def deliverable(self, info: GqlInfo, id: strawberry.ID) -> Deliverable | None:
        return await info.context.loaders.schedule.deliverable.load(uuid_ref(id, "Deliverable"))

    @strawberry.field(description="One baseline by global id or UUID.")
    async def baseline(self, info: GqlInfo, id: strawberry.ID) -> Baseline | None:
        return await info.context.loaders.schedule.baseline.load(uuid_ref(id, "Baseline"))


@strawberry.type
class ScheduleMutation:
    @strawberry.mutation(description="Add a milestone (pmo, admin; a manager: their projects).")
    async def create_milestone(
        self, info: GqlInfo, project_id: ProjectId, input: CreateMilestoneInput
    ) -> CreateMilestoneResult:
        ref = keyed_ref(project_id, "Project", "projectId")
        data = parse_model(MilestoneCreate, provided(input))
        return await info.context.change(
            lambda ctx: schedule.create_milestone(ctx, ref, data), MilestonePayload.of
        )

    @strawberry.mutation(description="Change the fields sent of a milestone.")
    async def update_milestone(
        self,
        info: GqlInfo,
        id: strawberry.ID,
        input: UpdateMilestoneInput,
        expected_version: int | None = None,
    ) -> UpdateMilestoneResult:
        ref = uuid_ref(id, "Milestone")
        patch = parse_model(MilestoneUpdate, provided(input))
        return await info.context.change(
            lambda ctx: schedule.update_milestone(ctx, ref, patch, expected_version),
            MilestonePayload.of,
        )

    @strawberry.mutation(description="Archive a milestone: readable by id, not listed.")
    async def archive_milestone(
        self, info: GqlInfo, id: strawberry.ID, expected_version: int | None = None
    ) -> ArchiveMilestoneResult:
        ref = uuid_ref(id, "Milestone")
        return await info.context.change(
            lambda ctx: schedule.archive_milestone(ctx, ref, expected_version),
            MilestonePayload.of,
        )

    @strawberry.mutation(description="Add a deliverable (pmo, admin; a manager: their projects).")
    async def create_deliverable(
        self, info: GqlInfo, project_id: ProjectId, input: CreateDeliverableInput
    ) -> CreateDeliverableResult:
        ref = keyed_ref(project_id, "Project", "projectId")
        data = parse_model(DeliverableCreate, provided(input))
        return await info.context.change(
            lambda ctx: schedule.create_deliverable(ctx, ref, data), DeliverablePayload.of
        )

    @strawberry.mutation(
        description="Change the fields sent of a deliverable; status accepted records who "
        "accepted it and when."
    )
    async def update_deliverable(
        self,
        info: GqlInfo,
        id: strawberry.ID,
        input: UpdateDeliverableInput,
        expected_version: int | None = None,
    ) -> UpdateDeliverableResult:
        ref = uuid_ref(id, "Deliverable")
        patch = parse_model(DeliverableUpdate, provided(input))
        return await info.context.change(
            lambda ctx: schedule.update_deliverable(ctx, ref, patch, expected_version),
            DeliverablePayload.of,
        )

    @strawberry.mutation(description="Archive a deliverable: readable by id, not listed.")
    async def archive_deliverable(
        self, info: GqlInfo, id: strawberry.ID, expected_version: int | None = None
    ) -> ArchiveDeliverableResult:
        ref = uuid_ref(id, "Deliverable")
        return await info.context.change(
            lambda ctx: schedule.archive_deliverable(ctx, ref, expected_version),
            DeliverablePayload.of,
        )

    @strawberry.mutation(
        description="Capture the project's current plan as a named, immutable baseline; "
        "it becomes the project's current baseline."
    )
    async def capture_baseline(
        self, info: GqlInfo, project_id: ProjectId, input: CaptureBaselineInput
    ) -> CaptureBaselineResult:
        ref = keyed_ref(project_id, "Project", "projectId")
        data = parse_model(BaselineCreate, provided(input))
        return await info.context.change(
            lambda ctx: schedule.capture_baseline(ctx, ref, data), BaselinePayload.of
        )
