"""Status reports over GraphQL beyond their records' own type (``records.py``): a
report's diff with the previous one, and each project's latest submitted report."""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.relay import LoaderSet, same
from pmo_api.api.graphql.scalars import Money, graphql_enum
from pmo_api.projects.models import Health
from pmo_api.reporting import schemas
from pmo_api.reporting import service as reports
from pmo_api.reporting.schemas import HealthTrend

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext
    from pmo_api.api.graphql.records import StatusReport

LazyStatusReport = Annotated["StatusReport", strawberry.lazy("pmo_api.api.graphql.records")]

graphql_enum(Health)
graphql_enum(HealthTrend)


@strawberry.type(description="One health dimension against the previous report.")
class HealthChange:
    from_: Health | None = strawberry.field(
        name="from", description="Null on the project's first report."
    )
    to: Health
    change: HealthTrend | None = strawberry.field(
        description="improved, worsened or same; null on the project's first report."
    )


@strawberry.type(description="A count against the previous report.")
class CountChange:
    from_: int | None = strawberry.field(name="from")
    to: int
    delta: int | None


@strawberry.type(description="An amount against the previous report.")
class MoneyChange:
    from_: Money | None = strawberry.field(name="from")
    to: Money
    delta: Money | None = strawberry.field(description="to - from; may be negative.")


@strawberry.type
class HealthChanges:
    overall: HealthChange
    schedule: HealthChange
    budget: HealthChange
    scope: HealthChange
    resources: HealthChange


@strawberry.type
class FigureChanges:
    percent_complete: CountChange
    actual_cost: MoneyChange
    planned_budget: MoneyChange
    open_risks: CountChange
    overdue_milestones: CountChange


def _health(change: schemas.HealthChange) -> HealthChange:
    return HealthChange(from_=change.from_, to=change.to, change=change.change)


def _count(change: schemas.CountChange) -> CountChange:
    return CountChange(from_=change.from_, to=change.to, delta=change.delta)


def _money(change: schemas.MoneyChange) -> MoneyChange:
    return MoneyChange(
        from_=None if change.from_ is None else Money(change.from_),
        to=Money(change.to),
        delta=None if change.delta is None else Money(change.delta),
    )


@strawberry.type(
    description="A report against its project's previous submitted report (by period end). "
    "A draft's figures are the project's live ones (`liveFigures`)."
)
class StatusReportDiff:
    live_figures: bool
    health: HealthChanges
    figures: FigureChanges
    previous_id: strawberry.Private[UUID | None]

    @strawberry.field(description="The previous submitted report; null for the first.")
    async def previous(self, info: GqlInfo) -> LazyStatusReport | None:
        if self.previous_id is None:
            return None
        found: Any = await info.context.loaders.records.node["status_report"].load(self.previous_id)
        return found

    @classmethod
    def from_model(cls, diff: schemas.StatusReportDiff) -> StatusReportDiff:
        h, f = diff.health, diff.figures
        return cls(
            live_figures=diff.live_figures,
            previous_id=diff.previous_id,
            health=HealthChanges(
                overall=_health(h.overall),
                schedule=_health(h.schedule),
                budget=_health(h.budget),
                scope=_health(h.scope),
                resources=_health(h.resources),
            ),
            figures=FigureChanges(
                percent_complete=_count(f.percent_complete),
                actual_cost=_money(f.actual_cost),
                planned_budget=_money(f.planned_budget),
                open_risks=_count(f.open_risks),
                overdue_milestones=_count(f.overdue_milestones),
            ),
        )


# -- a status report's own fields ---------------------------------------------------------


async def _diff(root: Any, info: GqlInfo) -> StatusReportDiff | None:
    report_id: UUID = root.id
    return await info.context.loaders.reporting.status_report_diff.load(report_id)


class StatusReportFields:
    """What the StatusReport type shows its own way (``records.FIELDS``)."""

    diff = strawberry.field(
        resolver=_diff, description="Against the project's previous submitted report."
    )


class ReportingLoaders(LoaderSet):
    """The per-request loaders of status reports beyond their records': each project's
    latest submitted report and each report's diff, one statement per batch."""

    def __init__(self, context: GraphQLContext) -> None:
        super().__init__(context)
        self.latest_status_report = self.keyed(reports.latest_status_reports, same, None)
        self.status_report_diff = self.keyed(
            reports.status_report_diffs, StatusReportDiff.from_model, None
        )
