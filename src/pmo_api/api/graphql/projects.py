"""Projects over GraphQL: the Project type, its inputs, queries and mutations."""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.errors import (
    ChangeErrors,
    ConflictError,
    ForbiddenError,
    ValidationError,
    parse_model,
)
from pmo_api.api.graphql.execution import plain
from pmo_api.api.graphql.inputs import provided
from pmo_api.api.graphql.records import with_project_connections
from pmo_api.api.graphql.relay import (
    After,
    Connection,
    First,
    Node,
    as_record,
    connection,
    keyed_ref,
    list_params,
    requested_node_fields,
    to_global_id,
)
from pmo_api.api.graphql.scalars import Money, graphql_enum
from pmo_api.core.pagination import DEFAULT_LIMIT
from pmo_api.listings import projects as listed_projects
from pmo_api.projects import models
from pmo_api.projects import service as projects
from pmo_api.projects.models import Health, ProjectStatus
from pmo_api.projects.schemas import ProjectCreate, ProjectFilter, ProjectUpdate

if TYPE_CHECKING:
    from pmo_api.api.graphql.records import Baseline, Milestone, StatusReport
    from pmo_api.api.graphql.resources import Person, Portfolio

graphql_enum(ProjectStatus)
graphql_enum(Health)

LazyPortfolio = Annotated["Portfolio", strawberry.lazy("pmo_api.api.graphql.resources")]
LazyPerson = Annotated["Person", strawberry.lazy("pmo_api.api.graphql.resources")]
LazyStatusReport = Annotated["StatusReport", strawberry.lazy("pmo_api.api.graphql.records")]
LazyMilestone = Annotated["Milestone", strawberry.lazy("pmo_api.api.graphql.records")]
LazyBaseline = Annotated["Baseline", strawberry.lazy("pmo_api.api.graphql.records")]

REFERENCES = {
    "portfolio_id": "Portfolio",
    "manager_id": "Person",
    "sponsor_id": "Person",
    "baseline_id": "Baseline",
}
"""Reference fields of the project inputs and filter, and the node type each names."""

ID_DESCRIPTION = "The project's global id, UUID or key."
SORT_DESCRIPTION = (
    "key, name, createdAt, updatedAt, priorityScore, percentComplete, plannedBudget, "
    "status or health; `-` for descending; default key."
)


@strawberry.type(description="A project: what the PMO plans, tracks and holds to its standards.")
@with_project_connections  # risks, milestones, statusReports...: from their declarations
class Project(Node):
    uuid: UUID = strawberry.field(description="The REST id.")
    key: str
    name: str
    description: str | None
    methodology: str | None
    phase: str | None
    status: ProjectStatus
    health: Health
    priority_score: int
    planned_budget: Money
    actual_cost: Money
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    percent_complete: int
    attributes: JSON = strawberry.field(description="Custom fields: snake_case names, scalars.")
    version: int = strawberry.field(description="Pass as `expectedVersion` to update safely.")
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None

    portfolio_id: strawberry.Private[UUID]
    manager_id: strawberry.Private[UUID | None]
    sponsor_id: strawberry.Private[UUID | None]
    baseline_id: strawberry.Private[UUID | None]
    loaded_open_risk_count: strawberry.Private[int | None] = None
    """Counted by the list statement that loaded the project (None: not loaded so)."""

    preloaded: strawberry.Private[dict[str, Any] | None] = None
    """Objects the page that listed the project loaded for all its nodes at once (see
    ``list_projects``): the fields below then answer synchronously, without a coroutine
    and a task per node."""

    # These resolvers are synchronous: a preloaded object is returned as it is, else the
    # loader's future (graphql-core awaits it; the loader still batches the page).
    @strawberry.field(description="The portfolio the project belongs to.")
    @plain
    def portfolio(self, info: GqlInfo) -> LazyPortfolio | None:
        if self.preloaded is not None and "portfolio" in self.preloaded:
            return self.preloaded["portfolio"]
        return info.context.loaders.portfolio.load(self.portfolio_id)

    @strawberry.field(description="The project manager, if one is named.")
    @plain
    def manager(self, info: GqlInfo) -> LazyPerson | None:
        if self.manager_id is None:
            return None
        if self.preloaded is not None and "manager" in self.preloaded:
            return self.preloaded["manager"]
        return info.context.loaders.person.load(self.manager_id)

    @strawberry.field(description="The sponsor, if one is named.")
    async def sponsor(self, info: GqlInfo) -> LazyPerson | None:
        if self.sponsor_id is None:
            return None
        return await info.context.loaders.person.load(self.sponsor_id)

    @strawberry.field(
        description="The latest submitted status report (by period end): the one that set "
        "the project's health; null before the first is submitted."
    )
    async def latest_status_report(self, info: GqlInfo) -> LazyStatusReport | None:
        return await info.context.loaders.reporting.latest_status_report.load(self.uuid)

    @strawberry.field(description="The earliest-due milestone not done, cancelled or archived.")
    async def next_milestone(self, info: GqlInfo) -> LazyMilestone | None:
        return await info.context.loaders.schedule.next_milestone.load(self.uuid)

    @strawberry.field(description="How many of the project's milestones are overdue today.")
    async def overdue_milestone_count(self, info: GqlInfo) -> int:
        return await info.context.loaders.schedule.overdue_milestone_count.load(self.uuid)

    @strawberry.field(description="The current baseline: the newest captured; null before one.")
    async def baseline(self, info: GqlInfo) -> LazyBaseline | None:
        if self.baseline_id is None:
            return None
        found: Any = await info.context.loaders.records.node["baseline"].load(self.baseline_id)
        return found

    @strawberry.field(description="OPEN risks: status open or mitigating, not archived.")
    @plain
    def open_risk_count(self, info: GqlInfo) -> int:
        if self.loaded_open_risk_count is not None:
            return self.loaded_open_risk_count
        return info.context.loaders.raid.open_risk_count.load(self.uuid)  # type: ignore[return-value]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Project:
        """A project read as a row (``db.reads``), with its open risk count if listed."""
        return cls.from_model(as_record(row, open_risk_count=None))

    @classmethod
    def from_model(cls, project: models.Project) -> Project:
        return cls(
            id=to_global_id("Project", project.id),
            uuid=project.id,
            key=project.key,
            name=project.name,
            description=project.description,
            methodology=project.methodology,
            phase=project.phase,
            status=project.status,
            health=project.health,
            priority_score=project.priority_score,
            planned_budget=Money(project.planned_budget),
            actual_cost=Money(project.actual_cost),
            planned_start=project.planned_start,
            planned_end=project.planned_end,
            actual_start=project.actual_start,
            actual_end=project.actual_end,
            percent_complete=project.percent_complete,
            attributes=JSON(dict(project.attributes)),
            version=project.version,
            created_at=project.created_at,
            updated_at=project.updated_at,
            archived_at=project.archived_at,
            portfolio_id=project.portfolio_id,
            manager_id=project.manager_id,
            sponsor_id=project.sponsor_id,
            baseline_id=project.baseline_id,
            loaded_open_risk_count=project.open_risk_count,
        )


@strawberry.input(name="ProjectFilter", description="Filters for project lists; all must match.")
class ProjectFilterInput:
    q: str | None = strawberry.field(
        default=strawberry.UNSET, description="Text search in key, name and description."
    )
    portfolio_id: strawberry.ID | None = strawberry.UNSET
    include_sub_portfolios: bool = strawberry.field(
        default=False, description="With portfolioId: nested portfolios' too."
    )
    manager_id: strawberry.ID | None = strawberry.UNSET
    sponsor_id: strawberry.ID | None = strawberry.UNSET
    status: list[ProjectStatus] | None = strawberry.UNSET
    health: list[Health] | None = strawberry.UNSET
    phase: str | None = strawberry.UNSET
    methodology: str | None = strawberry.UNSET
    include_archived: bool = False
    updated_since: datetime | None = strawberry.UNSET


@strawberry.input(description="A new project. Ids take a global id or a UUID.")
class CreateProjectInput:
    key: str
    name: str
    portfolio_id: strawberry.ID
    description: str | None = strawberry.UNSET
    manager_id: strawberry.ID | None = strawberry.UNSET
    sponsor_id: strawberry.ID | None = strawberry.UNSET
    methodology: str | None = strawberry.UNSET
    phase: str | None = strawberry.UNSET
    status: ProjectStatus | None = strawberry.UNSET
    health: Health | None = strawberry.UNSET
    priority_score: int | None = strawberry.UNSET
    planned_budget: Money | None = strawberry.UNSET
    planned_start: date | None = strawberry.UNSET
    planned_end: date | None = strawberry.UNSET
    actual_start: date | None = strawberry.UNSET
    actual_end: date | None = strawberry.UNSET
    percent_complete: int | None = strawberry.UNSET
    attributes: JSON | None = strawberry.UNSET


@strawberry.input(description="Only the fields sent change; null clears where allowed.")
class UpdateProjectInput:
    key: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    portfolio_id: strawberry.ID | None = strawberry.UNSET
    manager_id: strawberry.ID | None = strawberry.UNSET
    sponsor_id: strawberry.ID | None = strawberry.UNSET
    methodology: str | None = strawberry.UNSET
    phase: str | None = strawberry.UNSET
    status: ProjectStatus | None = strawberry.UNSET
    health: Health | None = strawberry.UNSET
    priority_score: int | None = strawberry.UNSET
    planned_budget: Money | None = strawberry.UNSET
    planned_start: date | None = strawberry.UNSET
    planned_end: date | None = strawberry.UNSET
    actual_start: date | None = strawberry.UNSET
    actual_end: date | None = strawberry.UNSET
    percent_complete: int | None = strawberry.UNSET
    attributes: JSON | None = strawberry.UNSET
    baseline_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Make one of the project's baselines the current one; null: none.",
    )


@strawberry.type
class ProjectPayload:
    project: Project

    @classmethod
    def of(cls, project: models.Project | Mapping[str, Any]) -> ProjectPayload:
        return cls(project=Project.from_model(as_record(project, open_risk_count=None)))


CreateProjectResult = Annotated[
    ProjectPayload | ForbiddenError | ValidationError | ConflictError,
    strawberry.union("CreateProjectResult"),
]
UpdateProjectResult = Annotated[
    ProjectPayload | ChangeErrors, strawberry.union("UpdateProjectResult")
]
ArchiveProjectResult = Annotated[
    ProjectPayload | ChangeErrors, strawberry.union("ArchiveProjectResult")
]


def project_filter(filter: ProjectFilterInput | None, **fixed: Any) -> ProjectFilter:
    values = {**provided(filter, REFERENCES), **fixed}
    return parse_model(ProjectFilter, values, "filter")


async def list_projects(
    info: GqlInfo,
    filters: ProjectFilter,
    first: int | None,
    after: str | None,
    sort: str | None,
) -> Connection[Project]:
    params = list_params(first, after, sort)
    result = await info.context.fetch(
        lambda ctx: listed_projects.read_projects(ctx, filters, params),
        lambda page: connection(page, Project.from_row),
    )
    await _preload(info, [edge.node for edge in result.edges])
    return result


async def _preload(info: GqlInfo, nodes: list[Project]) -> None:
    """The portfolio and manager of every node of a page, if the query asks for them:
    one read each (the statement of the fields' loaders), set on the nodes."""
    wanted = requested_node_fields(info)
    context = info.context
    found: dict[str, dict[UUID, Any]] = {}
    if "portfolio" in wanted:
        ids = list({node.portfolio_id for node in nodes})
        found["portfolio"] = await context.read_nodes("Portfolio", ids) if ids else {}
    if "manager" in wanted:
        ids = list({node.manager_id for node in nodes if node.manager_id is not None})
        found["manager"] = await context.read_nodes("Person", ids) if ids else {}
    if not found:
        return
    for node in nodes:
        node.preloaded = {}
        if "portfolio" in found:
            node.preloaded["portfolio"] = found["portfolio"].get(node.portfolio_id)
        if "manager" in found and node.manager_id is not None:
            node.preloaded["manager"] = found["manager"].get(node.manager_id)


@strawberry.type
class ProjectsQuery:
    @strawberry.field(description="One project by global id, UUID or key.")
    async def project(self, info: GqlInfo, id_or_key: str) -> Project | None:
        ref = keyed_ref(id_or_key, "Project")
        return await info.context.fetch(
            lambda ctx: projects.get_project(ctx, ref), Project.from_model
        )

    @strawberry.field(description="Projects, filtered; sorted by " + SORT_DESCRIPTION)
    async def projects(
        self,
        info: GqlInfo,
        first: First = DEFAULT_LIMIT,
        after: After = None,
        filter: ProjectFilterInput | None = None,
        sort: str | None = None,
    ) -> Connection[Project]:
        return await list_projects(info, project_filter(filter), first, after, sort)


@strawberry.type
class ProjectsMutation:
    @strawberry.mutation(description="Create a project (pmo, admin; a manager: their own).")
    async def create_project(self, info: GqlInfo, input: CreateProjectInput) -> CreateProjectResult:
        data = parse_model(ProjectCreate, provided(input, REFERENCES))
        return await info.context.change(
            lambda ctx: projects.create_project(ctx, data), ProjectPayload.of
        )

    @strawberry.mutation(description="Change the fields sent (pmo, admin; a manager: their own).")
    async def update_project(
        self,
        info: GqlInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description=ID_DESCRIPTION)],
        input: UpdateProjectInput,
        expected_version: int | None = None,
    ) -> UpdateProjectResult:
        ref = keyed_ref(id, "Project", "id")
        patch = parse_model(ProjectUpdate, provided(input, REFERENCES))
        return await info.context.change(
            lambda ctx: projects.update_project(ctx, ref, patch, expected_version),
            ProjectPayload.of,
        )

    @strawberry.mutation(description="Archive a project (pmo, admin): readable by id, not listed.")
    async def archive_project(
        self,
        info: GqlInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description=ID_DESCRIPTION)],
        expected_version: int | None = None,
    ) -> ArchiveProjectResult:
        ref = keyed_ref(id, "Project", "id")
        return await info.context.change(
            lambda ctx: projects.archive_project(ctx, ref, expected_version),
            ProjectPayload.of,
        )
