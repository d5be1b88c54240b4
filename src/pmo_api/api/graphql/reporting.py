"""Status reports over GraphQL: the StatusReport type and its diff, the project's
reports and latest report, queries and mutations."""

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
    After,
    Connection,
    First,
    LoaderSet,
    connection,
    keyed_ref,
    list_params,
    uuid_ref,
)
from pmo_api.api.graphql.scalars import Money
from pmo_api.core.pagination import DEFAULT_LIMIT
from pmo_api.projects.models import Health
from pmo_api.reporting import models, schemas
from pmo_api.reporting import service as reports
from pmo_api.reporting.models import ReportState
from pmo_api.reporting.schemas import (
    HealthTrend,
    StatusReportCreate,
    StatusReportFilter,
    StatusReportUpdate,
)

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext

strawberry.enum(ReportState, description="draft (editable) or submitted (frozen).")
strawberry.enum(HealthTrend, description="How a health moved since the previous report.")

ID_DESCRIPTION = "The status report's global id or UUID."
SORT_DESCRIPTION = (
    "periodEnd, createdAt, updatedAt or submittedAt (submitted reports only); `-` for "
    "descending; default -periodEnd."
)


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
    async def previous(self, info: GqlInfo) -> StatusReport | None:
        if self.previous_id is None:
            return None
        return await info.context.loaders.reporting.status_report.load(self.previous_id)

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


@strawberry.type(
    description="A project's status for one period; frozen, with the project's figures, "
    "when submitted. The latest submitted report sets the project's health."
)
class StatusReport(ProjectRecord):
    period_start: date
    period_end: date
    overall_health: Health
    schedule_health: Health
    budget_health: Health
    scope_health: Health
    resources_health: Health
    summary: str | None
    accomplishments: str | None
    next_steps: str | None
    state: ReportState
    submitted_by: str | None = strawberry.field(description="The submitting API key's name.")
    submitted_at: datetime | None
    percent_complete: int | None = strawberry.field(description="Frozen at submission.")
    actual_cost: Money | None = strawberry.field(description="Frozen at submission.")
    planned_budget: Money | None = strawberry.field(description="Frozen at submission.")
    open_risks: int | None = strawberry.field(description="Frozen at submission.")
    overdue_milestones: int | None = strawberry.field(description="Frozen at submission.")

    submitted_by_person_id: strawberry.Private[UUID | None]

    @strawberry.field(description="The person the submitting key acts for, if any.")
    async def submitted_by_person(self, info: GqlInfo) -> Person | None:
        return await load_person(info, self.submitted_by_person_id)

    @strawberry.field(description="Against the project's previous submitted report.")
    async def diff(self, info: GqlInfo) -> StatusReportDiff | None:
        return await info.context.loaders.reporting.status_report_diff.load(self.uuid)

    @classmethod
    def from_model(cls, report: models.StatusReport) -> StatusReport:
        def money(value: object) -> Money | None:
            return None if value is None else Money(value)  # type: ignore[arg-type]

        return cls(
            **record_fields("StatusReport", report),
            period_start=report.period_start,
            period_end=report.period_end,
            overall_health=report.overall_health,
            schedule_health=report.schedule_health,
            budget_health=report.budget_health,
            scope_health=report.scope_health,
            resources_health=report.resources_health,
            summary=report.summary,
            accomplishments=report.accomplishments,
            next_steps=report.next_steps,
            state=report.state,
            submitted_by=report.submitted_by,
            submitted_at=report.submitted_at,
            percent_complete=report.percent_complete,
            actual_cost=money(report.actual_cost),
            planned_budget=money(report.planned_budget),
            open_risks=report.open_risks,
            overdue_milestones=report.overdue_milestones,
            submitted_by_person_id=report.submitted_by_person_id,
        )


@strawberry.input(name="StatusReportFilter", description="Filters for status report lists.")
class StatusReportFilterInput:
    state: list[ReportState] | None = strawberry.UNSET
    period_from: date | None = strawberry.field(
        default=strawberry.UNSET, description="Reports whose period ends on or after."
    )
    period_to: date | None = strawberry.field(
        default=strawberry.UNSET, description="Reports whose period starts on or before."
    )
    overall_health: list[Health] | None = strawberry.UNSET
    include_archived: bool | None = strawberry.UNSET
    updated_since: datetime | None = strawberry.UNSET


@strawberry.input(description="A new draft; its figures are frozen when it is submitted.")
class CreateStatusReportInput:
    period_start: date
    period_end: date
    overall_health: Health
    schedule_health: Health | None = strawberry.UNSET
    budget_health: Health | None = strawberry.UNSET
    scope_health: Health | None = strawberry.UNSET
    resources_health: Health | None = strawberry.UNSET
    summary: str | None = strawberry.UNSET
    accomplishments: str | None = strawberry.UNSET
    next_steps: str | None = strawberry.UNSET


@strawberry.input(description="Only the fields sent change; a submitted report never does.")
class UpdateStatusReportInput:
    period_start: date | None = strawberry.UNSET
    period_end: date | None = strawberry.UNSET
    overall_health: Health | None = strawberry.UNSET
    schedule_health: Health | None = strawberry.UNSET
    budget_health: Health | None = strawberry.UNSET
    scope_health: Health | None = strawberry.UNSET
    resources_health: Health | None = strawberry.UNSET
    summary: str | None = strawberry.UNSET
    accomplishments: str | None = strawberry.UNSET
    next_steps: str | None = strawberry.UNSET


@strawberry.type
class StatusReportPayload:
    status_report: StatusReport

    @classmethod
    def of(cls, report: models.StatusReport) -> StatusReportPayload:
        return cls(status_report=StatusReport.from_model(report))


CreateStatusReportResult = Annotated[
    StatusReportPayload | CreateErrors, strawberry.union("CreateStatusReportResult")
]
UpdateStatusReportResult = Annotated[
    StatusReportPayload | ChangeErrors, strawberry.union("UpdateStatusReportResult")
]
SubmitStatusReportResult = Annotated[
    StatusReportPayload | ChangeErrors, strawberry.union("SubmitStatusReportResult")
]
ArchiveStatusReportResult = Annotated[
    StatusReportPayload | ChangeErrors, strawberry.union("ArchiveStatusReportResult")
]


class ReportingLoaders(LoaderSet):
    """The per-request loaders of status reports: by id, each project's latest and
    pages, and each report's diff, one statement per batch."""

    def __init__(self, context: GraphQLContext) -> None:
        super().__init__(context)
        self.status_report = self.nodes(
            "StatusReport", "status_report", reports.get_status_reports, StatusReport.from_model
        )
        self.latest_status_report = self.keyed(
            reports.latest_status_reports, StatusReport.from_model, None
        )
        self.status_report_diff = self.keyed(
            reports.status_report_diffs, StatusReportDiff.from_model, None
        )
        self.project_status_reports = self.pages(
            reports.first_status_report_pages, StatusReport.from_model
        )

    async def status_reports_of(
        self, project_id: UUID, first: int | None, after: str | None
    ) -> Connection[StatusReport]:
        """``Project.statusReports``: latest period first, one statement for the first
        pages of all the projects being resolved (a cursor names one project's list)."""
        params = list_params(first, after, None)
        return await self.project_status_reports.load((project_id, params))


@strawberry.type
class StatusReportsQuery:
    @strawberry.field(description="One status report by global id or UUID.")
    async def status_report(self, info: GqlInfo, id: strawberry.ID) -> StatusReport | None:
        report_id = uuid_ref(id, "StatusReport")
        return await info.context.fetch(
            lambda ctx: reports.get_status_report(ctx, report_id), StatusReport.from_model
        )

    @strawberry.field(description="A project's status reports, sorted by " + SORT_DESCRIPTION)
    async def status_reports(
        self,
        info: GqlInfo,
        project: Annotated[
            str, strawberry.argument(description="The project's global id, UUID or key.")
        ],
        first: First = DEFAULT_LIMIT,
        after: After = None,
        filter: StatusReportFilterInput | None = None,
        sort: str | None = None,
    ) -> Connection[StatusReport]:
        ref = keyed_ref(project, "Project", "project")
        params = list_params(first, after, sort)
        filters = parse_model(StatusReportFilter, provided(filter), "filter")
        return await info.context.fetch(
            lambda ctx: reports.list_status_reports(ctx, ref, filters, params),
            lambda page: connection(page, StatusReport.from_model),
        )


@strawberry.type
class StatusReportsMutation:
    @strawberry.mutation(description="Draft a status report (pmo, admin; a manager: their own).")
    async def create_status_report(
        self,
        info: GqlInfo,
        project_id: Annotated[
            strawberry.ID, strawberry.argument(description="The project's global id, UUID or key.")
        ],
        input: CreateStatusReportInput,
    ) -> CreateStatusReportResult:
        ref = keyed_ref(project_id, "Project", "projectId")
        data = parse_model(StatusReportCreate, provided(input))
        return await info.context.change(
            lambda ctx: reports.create_status_report(ctx, ref, data), StatusReportPayload.of
        )

    @strawberry.mutation(description="Change a draft's fields sent; a submitted one is frozen.")
    async def update_status_report(
        self,
        info: GqlInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description=ID_DESCRIPTION)],
        input: UpdateStatusReportInput,
        expected_version: int | None = None,
    ) -> UpdateStatusReportResult:
        report_id = uuid_ref(id, "StatusReport")
        patch = parse_model(StatusReportUpdate, provided(input))
        return await info.context.change(
            lambda ctx: reports.update_status_report(ctx, report_id, patch, expected_version),
            StatusReportPayload.of,
        )

    @strawberry.mutation(
        description="Submit a draft: freeze it with the project's figures; the latest "
        "report (by period end) sets the project's health."
    )
    async def submit_status_report(
        self,
        info: GqlInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description=ID_DESCRIPTION)],
        expected_version: int | None = None,
    ) -> SubmitStatusReportResult:
        report_id = uuid_ref(id, "StatusReport")
        return await info.context.change(
            lambda ctx: reports.submit_status_report(ctx, report_id, expected_version),
            StatusReportPayload.of,
        )

    @strawberry.mutation(description="Archive a draft; a submitted report is kept as it is.")
    async def archive_status_report(
        self,
        info: GqlInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description=ID_DESCRIPTION)],
        expected_version: int | None = None,
    ) -> ArchiveStatusReportResult:
        report_id = uuid_ref(id, "StatusReport")
        return await info.context.change(
            lambda ctx: reports.archive_status_report(ctx, report_id, expected_version),
            StatusReportPayload.of,
        )
