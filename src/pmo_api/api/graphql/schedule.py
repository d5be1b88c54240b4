"""A project's schedule over GraphQL: milestones, deliverables and baselines, their
mutations, the comparison of plans, and the batched fields the Project type reaches
them by (``milestones``, ``nextMilestone``, ``overdueMilestoneCount``, ``baseline``...)."""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from uuid import UUID

import strawberry
from strawberry.dataloader import DataLoader

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
    VersionMismatchError,
    parse_model,
)
from pmo_api.api.graphql.inputs import provided
from pmo_api.api.graphql.people import Person
from pmo_api.api.graphql.relay import (
    Connection,
    Node,
    connection,
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
class Milestone(Node):
    uuid: UUID = strawberry.field(description="The REST id.")
    name: str
    description: str | None
    due_date: date
    done_date: date | None = strawberry.field(description="Set when the status is done.")
    status: MilestoneStatus
    overdue: bool = strawberry.field(
        description="Derived: planned or in progress, due before today, not archived."
    )
    version: int = strawberry.field(description="Pass as `expectedVersion` to update safely.")
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    project_id: strawberry.Private[UUID]

    @strawberry.field(description="The project the milestone belongs to.")
    async def project(self, info: GqlInfo) -> LazyProject | None:
        return await info.context.loaders.project.load(self.project_id)

    @classmethod
    def from_model(cls, m: models.Milestone) -> Milestone:
        return cls(
            id=to_global_id("Milestone", m.id),
            uuid=m.id,
            name=m.name,
            description=m.description,
            due_date=m.due_date,
            done_date=m.done_date,
            status=m.status,
            overdue=bool(m.overdue),
            version=m.version,
            created_at=m.created_at,
            updated_at=m.updated_at,
            archived_at=m.archived_at,
            project_id=m.project_id,
        )


@strawberry.type(description="A product of a project's work, submitted for acceptance.")
class Deliverable(Node):
    uuid: UUID = strawberry.field(description="The REST id.")
    name: str
    description: str | None
    phase: str | None
    due_date: date
    status: DeliverableStatus
    accepted_by: str | None = strawberry.field(description="The API key that accepted it.")
    accepted_at: datetime | None
    version: int = strawberry.field(description="Pass as `expectedVersion` to update safely.")
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    project_id: strawberry.Private[UUID]
    accepted_by_person_id: strawberry.Private[UUID | None]

    @strawberry.field(description="The project the deliverable belongs to.")
    async def project(self, info: GqlInfo) -> LazyProject | None:
        return await info.context.loaders.project.load(self.project_id)

    @strawberry.field(description="The person the accepting key acts for, if any.")
    async def accepted_by_person(self, info: GqlInfo) -> Person | None:
        if self.accepted_by_person_id is None:
            return None
        return await info.context.loaders.person.load(self.accepted_by_person_id)

    @classmethod
    def from_model(cls, d: models.Deliverable) -> Deliverable:
        return cls(
            id=to_global_id("Deliverable", d.id),
            uuid=d.id,
            name=d.name,
            description=d.description,
            phase=d.phase,
            due_date=d.due_date,
            status=d.status,
            accepted_by=d.accepted_by,
            accepted_at=d.accepted_at,
            version=d.version,
            created_at=d.created_at,
            updated_at=d.updated_at,
            archived_at=d.archived_at,
            project_id=d.project_id,
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

    @strawberry.field(description="The project the baseline belongs to.")
    async def project(self, info: GqlInfo) -> LazyProject | None:
        return await info.context.loaders.project.load(self.project_id)

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
        )


# -- the Project type's schedule fields, batched ----------------------------------------------


@dataclass(frozen=True)
class PageKey:
    """One project's page of a nested connection, as its arguments ask for it."""

    project_id: UUID
    first: int
    after: str | None
    overdue: bool | None = None


NodeT = TypeVar("NodeT")

PageBatch = Callable[
    [ServiceContext, Sequence[UUID], Any, ListParams], Awaitable[dict[UUID, Page[Any]]]
]


def _page_batch(
    batch: PageBatch, keys: Sequence[PageKey], filters: Any, params: ListParams
) -> Callable[[ServiceContext], Awaitable[dict[UUID, Page[Any]]]]:
    ids = [key.project_id for key in keys]
    return lambda ctx: batch(ctx, ids, filters, params)


class ScheduleLoaders:
    """Per-request loaders of the schedule: one statement per field for a whole page of
    projects (the same arguments are one batch; other arguments, another)."""

    def __init__(self, context: GraphQLContext) -> None:
        self._context = context
        self.milestone = self._nodes(schedule.get_milestones, Milestone.from_model)
        self.deliverable = self._nodes(schedule.get_deliverables, Deliverable.from_model)
        self.baseline = self._nodes(schedule.get_baselines, Baseline.from_model)
        self.next_milestone: DataLoader[UUID, Milestone | None] = DataLoader(
            load_fn=self._next_milestones
        )
        self.overdue_milestone_count: DataLoader[UUID, int] = DataLoader(
            load_fn=self._overdue_counts
        )
        self.milestones = self._pages(
            schedule.milestone_pages,
            lambda key: MilestoneFilter(overdue=key.overdue),
            Milestone.from_model,
        )
        self.deliverables = self._pages(
            schedule.deliverable_pages, lambda key: DeliverableFilter(), Deliverable.from_model
        )
        self.baselines = self._pages(
            schedule.baseline_pages, lambda key: BaselineFilter(), Baseline.from_model
        )
        self.by_type: dict[str, DataLoader[UUID, Any]] = {
            "Milestone": self.milestone,
            "Deliverable": self.deliverable,
            "Baseline": self.baseline,
        }
        self.by_entity_type: dict[str, DataLoader[UUID, Any]] = {
            "milestone": self.milestone,
            "deliverable": self.deliverable,
            "baseline": self.baseline,
        }

    def _nodes(
        self,
        batch: Callable[[ServiceContext, Sequence[UUID]], Awaitable[Sequence[Any]]],
        present: Callable[[Any], NodeT],
    ) -> DataLoader[UUID, NodeT | None]:
        async def load(ids: list[UUID]) -> list[NodeT | None]:
            found = await self._context.fetch(
                lambda ctx: batch(ctx, ids), lambda rows: {row.id: present(row) for row in rows}
            )
            return [found.get(row_id) for row_id in ids]

        return DataLoader(load_fn=load)

    async def _next_milestones(self, ids: list[UUID]) -> list[Milestone | None]:
        found = await self._context.fetch(
            lambda ctx: schedule.next_milestones(ctx, ids),
            lambda rows: {pid: Milestone.from_model(m) for pid, m in rows.items()},
        )
        return [found.get(pid) for pid in ids]

    async def _overdue_counts(self, ids: list[UUID]) -> list[int]:
        found = await self._context.fetch(
            lambda ctx: schedule.overdue_milestone_counts(ctx, ids, ctx.now.date()),
            lambda counts: counts,
        )
        return [found.get(pid, 0) for pid in ids]

    def _pages(
        self,
        batch: PageBatch,
        filters: Callable[[PageKey], Any],
        present: Callable[[Any], NodeT],
    ) -> DataLoader[PageKey, Connection[NodeT]]:
        async def load(keys: list[PageKey]) -> list[Connection[NodeT]]:
            found: dict[PageKey, Connection[NodeT]] = {}
            groups: dict[tuple[int, str | None, bool | None], list[PageKey]] = {}
            for key in keys:
                groups.setdefault((key.first, key.after, key.overdue), []).append(key)
            for (first, after, _), group in groups.items():
                pages = await self._context.fetch(
                    _page_batch(batch, group, filters(group[0]), list_params(first, after, None)),
                    lambda result: {pid: connection(page, present) for pid, page in result.items()},
                )
                found.update({key: pages[key.project_id] for key in group})
            return [found[key] for key in keys]

        return DataLoader(load_fn=load)

    def clear_all(self) -> None:
        for loader in (
            self.milestone,
            self.deliverable,
            self.baseline,
            self.next_milestone,
            self.overdue_milestone_count,
            self.milestones,
            self.deliverables,
            self.baselines,
        ):
            loader.clear_all()


def _loaders(info: GqlInfo) -> ScheduleLoaders:
    schedule_loaders: ScheduleLoaders = info.context.loaders.schedule
    return schedule_loaders


async def project_milestones(
    info: GqlInfo, project_id: UUID, first: int, after: str | None, overdue: bool | None
) -> Connection[Milestone]:
    list_params(first, after, None)  # refuse bad arguments before the batch
    return await _loaders(info).milestones.load(PageKey(project_id, first, after, overdue))


async def project_deliverables(
    info: GqlInfo, project_id: UUID, first: int, after: str | None
) -> Connection[Deliverable]:
    list_params(first, after, None)
    return await _loaders(info).deliverables.load(PageKey(project_id, first, after))


async def project_baselines(
    info: GqlInfo, project_id: UUID, first: int, after: str | None
) -> Connection[Baseline]:
    list_params(first, after, None)
    return await _loaders(info).baselines.load(PageKey(project_id, first, after))


async def next_milestone(info: GqlInfo, project_id: UUID) -> Milestone | None:
    return await _loaders(info).next_milestone.load(project_id)


async def overdue_milestone_count(info: GqlInfo, project_id: UUID) -> int:
    return await _loaders(info).overdue_milestone_count.load(project_id)


async def current_baseline(info: GqlInfo, baseline_id: UUID | None) -> Baseline | None:
    if baseline_id is None:
        return None
    return await _loaders(info).baseline.load(baseline_id)


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


_CREATE = NotFoundError | ForbiddenError | ValidationError | ConflictError
_CHANGE = NotFoundError | ForbiddenError | VersionMismatchError | ValidationError | ConflictError

CreateMilestoneResult = Annotated[
    MilestonePayload | _CREATE, strawberry.union("CreateMilestoneResult")
]
UpdateMilestoneResult = Annotated[
    MilestonePayload | _CHANGE, strawberry.union("UpdateMilestoneResult")
]
ArchiveMilestoneResult = Annotated[
    MilestonePayload | _CHANGE, strawberry.union("ArchiveMilestoneResult")
]
CreateDeliverableResult = Annotated[
    DeliverablePayload | _CREATE, strawberry.union("CreateDeliverableResult")
]
UpdateDeliverableResult = Annotated[
    DeliverablePayload | _CHANGE, strawberry.union("UpdateDeliverableResult")
]
ArchiveDeliverableResult = Annotated[
    DeliverablePayload | _CHANGE, strawberry.union("ArchiveDeliverableResult")
]
CaptureBaselineResult = Annotated[
    BaselinePayload | _CREATE, strawberry.union("CaptureBaselineResult")
]

ProjectId = Annotated[strawberry.ID, strawberry.argument(description=PROJECT_ID_DESCRIPTION)]


@strawberry.type
class ScheduleQuery:
    @strawberry.field(description="One milestone by global id or UUID.")
    async def milestone(self, info: GqlInfo, id: strawberry.ID) -> Milestone | None:
        return await _loaders(info).milestone.load(uuid_ref(id, "Milestone"))

    @strawberry.field(description="One deliverable by global id or UUID.")
    async def deliverable(self, info: GqlInfo, id: strawberry.ID) -> Deliverable | None:
        return await _loaders(info).deliverable.load(uuid_ref(id, "Deliverable"))

    @strawberry.field(description="One baseline by global id or UUID.")
    async def baseline(self, info: GqlInfo, id: strawberry.ID) -> Baseline | None:
        return await _loaders(info).baseline.load(uuid_ref(id, "Baseline"))


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
