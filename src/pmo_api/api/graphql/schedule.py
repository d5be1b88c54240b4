"""A project's schedule over GraphQL beyond its records' own types (``records.py``): a
baseline's milestones and its comparison with a plan, and the batched milestone fields
the Project type shows (``nextMilestone``, ``overdueMilestoneCount``)."""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.relay import LoaderSet, same, to_global_id, uuid_ref
from pmo_api.api.graphql.scalars import Money, graphql_enum
from pmo_api.core.context import ServiceContext
from pmo_api.schedule import schemas as plans
from pmo_api.schedule import service as schedule
from pmo_api.schedule.models import MilestoneStatus

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext

graphql_enum(MilestoneStatus)


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


# -- a baseline's own fields --------------------------------------------------------------


def _planned_milestones(root: Any) -> list[PlannedMilestone]:
    return [PlannedMilestone.of(plans.BaselineMilestone.model_validate(m)) for m in root.milestones]


async def _compare(
    root: Any,
    info: GqlInfo,
    with_: Annotated[
        strawberry.ID | None,
        strawberry.argument(name="with", description="Another baseline's id."),
    ] = None,
) -> BaselineComparison:
    other = None if with_ is None else uuid_ref(with_, "Baseline", "with")
    baseline_id: UUID = root.id
    return await info.context.fetch(
        lambda ctx: schedule.compare_baseline(ctx, baseline_id, other), BaselineComparison.of
    )


class BaselineFields:
    """What the Baseline type shows its own way (``records.FIELDS``)."""

    milestones = strawberry.field(
        resolver=_planned_milestones,
        description="The project's non-archived milestones when captured.",
    )
    compare = strawberry.field(
        resolver=_compare,
        description="This baseline compared with the project's current plan, or with "
        "another baseline of the same project (`with`).",
    )


# -- the Project type's milestone figures, batched --------------------------------------------


class ScheduleLoaders(LoaderSet):
    """Per-request loaders of the Project type's milestone figures: one statement per
    field for a whole page of projects."""

    def __init__(self, context: GraphQLContext) -> None:
        super().__init__(context)
        self.next_milestone = self.keyed(schedule.next_milestones, same, None)
        self.overdue_milestone_count = self.keyed(_overdue_counts, int, 0)


async def _overdue_counts(ctx: ServiceContext, project_ids: list[UUID]) -> dict[UUID, int]:
    return await schedule.overdue_milestone_counts(ctx, project_ids, ctx.now.date())
