"""Portfolios over GraphQL: the Portfolio type (with its projects), inputs, queries and
mutations."""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.errors import (
    ChangeErrors,
    ConflictError,
    ForbiddenError,
    ValidationError,
    parse_model,
)
from pmo_api.api.graphql.inputs import provided
from pmo_api.api.graphql.projects import (
    SORT_DESCRIPTION,
    Project,
    ProjectFilterInput,
    project_filter,
)
from pmo_api.api.graphql.relay import (
    After,
    Connection,
    First,
    LoaderSet,
    Node,
    as_record,
    connection,
    keyed_ref,
    list_params,
    to_global_id,
)
from pmo_api.api.graphql.resources import Person
from pmo_api.api.graphql.scalars import Money
from pmo_api.core.context import ServiceContext
from pmo_api.core.pagination import DEFAULT_LIMIT, ListParams, Page
from pmo_api.listings import projects as listed_projects
from pmo_api.portfolios import models
from pmo_api.portfolios import service as portfolios
from pmo_api.portfolios.schemas import PortfolioCreate, PortfolioFilter, PortfolioUpdate
from pmo_api.projects.models import Project as ProjectModel
from pmo_api.projects.schemas import ProjectFilter

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext

REFERENCES = {"owner_id": "Person", "parent_id": "Portfolio"}
ID_DESCRIPTION = "The portfolio's global id, UUID or key."


@strawberry.type(description="A portfolio or program: projects belong to it, programs nest.")
class Portfolio(Node):
    uuid: UUID = strawberry.field(description="The REST id.")
    key: str
    name: str
    description: str | None
    budget_cap: Money | None
    version: int = strawberry.field(description="Pass as `expectedVersion` to update safely.")
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None

    owner_id: strawberry.Private[UUID | None]
    parent_id: strawberry.Private[UUID | None]

    @strawberry.field(description="The person accountable for the portfolio.")
    async def owner(self, info: GqlInfo) -> Person | None:
        if self.owner_id is None:
            return None
        return await info.context.loaders.person.load(self.owner_id)

    @strawberry.field(description="The enclosing portfolio; null at the top of the tree.")
    async def parent(self, info: GqlInfo) -> Portfolio | None:
        if self.parent_id is None:
            return None
        return await info.context.loaders.portfolio.load(self.parent_id)

    @strawberry.field(
        description="The portfolio's projects (with `filter.includeSubPortfolios`, those of "
        "nested portfolios too); sorted by " + SORT_DESCRIPTION
    )
    async def projects(
        self,
        info: GqlInfo,
        first: First = DEFAULT_LIMIT,
        after: After = None,
        filter: ProjectFilterInput | None = None,
        sort: str | None = None,
    ) -> Connection[Project]:
        filters = project_filter(filter, portfolio_id=None)  # each portfolio's own, below
        loaders = info.context.loaders.portfolios
        return await loaders.projects_of(self.uuid, first, after, filters, sort)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Portfolio:
        """A portfolio read as a row (``db.reads``)."""
        return cls.from_model(as_record(row))

    @classmethod
    def from_model(cls, portfolio: models.Portfolio) -> Portfolio:
        return cls(
            id=to_global_id("Portfolio", portfolio.id),
            uuid=portfolio.id,
            key=portfolio.key,
            name=portfolio.name,
            description=portfolio.description,
            budget_cap=None if portfolio.budget_cap is None else Money(portfolio.budget_cap),
            version=portfolio.version,
            created_at=portfolio.created_at,
            updated_at=portfolio.updated_at,
            archived_at=portfolio.archived_at,
            owner_id=portfolio.owner_id,
            parent_id=portfolio.parent_id,
        )


@dataclass(frozen=True)
class ProjectPageArgs:
    """What a page of a portfolio's projects is asked with; the same for every portfolio
    of a page, so they are one batch."""

    params: ListParams
    filters_json: str = field(init=False)
    filters: ProjectFilter = field(compare=False)

    def __post_init__(self) -> None:
        # The filter lists (status, health) are not hashable: its JSON is.
        object.__setattr__(self, "filters_json", self.filters.model_dump_json())


async def _project_pages(
    ctx: ServiceContext, portfolio_ids: list[UUID], args: ProjectPageArgs
) -> dict[UUID, Page[ProjectModel]]:
    return await listed_projects.projects_of_portfolios(
        ctx, portfolio_ids, args.filters, args.params
    )


class PortfolioLoaders(LoaderSet):
    """The per-request loaders of portfolios' nested connections."""

    def __init__(self, context: GraphQLContext) -> None:
        super().__init__(context)
        self.projects = self.pages(_project_pages, Project.from_model)

    async def projects_of(
        self,
        portfolio_id: UUID,
        first: int | None,
        after: str | None,
        filters: ProjectFilter,
        sort: str | None,
    ) -> Connection[Project]:
        """``Portfolio.projects``: one statement for the first pages of all the
        portfolios being resolved with the same arguments."""
        args = ProjectPageArgs(params=list_params(first, after, sort), filters=filters)
        return await self.projects.load((portfolio_id, args))


@strawberry.input(name="PortfolioFilter", description="Filters for `portfolios`; all must match.")
class PortfolioFilterInput:
    q: str | None = strawberry.field(
        default=strawberry.UNSET, description="Text search in key, name and description."
    )
    parent_id: strawberry.ID | None = strawberry.UNSET
    root: bool | None = strawberry.field(
        default=strawberry.UNSET, description="true: only top-level portfolios."
    )
    owner_id: strawberry.ID | None = strawberry.UNSET
    include_archived: bool = False
    updated_since: datetime | None = strawberry.UNSET


@strawberry.input(description="A new portfolio. Ids take a global id or a UUID.")
class CreatePortfolioInput:
    key: str
    name: str
    description: str | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET
    parent_id: strawberry.ID | None = strawberry.UNSET
    budget_cap: Money | None = strawberry.UNSET


@strawberry.input(description="Only the fields sent change; null clears where allowed.")
class UpdatePortfolioInput:
    key: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET
    parent_id: strawberry.ID | None = strawberry.UNSET
    budget_cap: Money | None = strawberry.UNSET


@strawberry.type
class PortfolioPayload:
    portfolio: Portfolio

    @classmethod
    def of(cls, portfolio: models.Portfolio | Mapping[str, Any]) -> PortfolioPayload:
        return cls(portfolio=Portfolio.from_model(as_record(portfolio)))


CreatePortfolioResult = Annotated[
    PortfolioPayload | ForbiddenError | ValidationError | ConflictError,
    strawberry.union("CreatePortfolioResult"),
]
UpdatePortfolioResult = Annotated[
    PortfolioPayload | ChangeErrors, strawberry.union("UpdatePortfolioResult")
]
ArchivePortfolioResult = Annotated[
    PortfolioPayload | ChangeErrors, strawberry.union("ArchivePortfolioResult")
]


@strawberry.type
class PortfoliosQuery:
    @strawberry.field(description="One portfolio by global id, UUID or key.")
    async def portfolio(self, info: GqlInfo, id_or_key: str) -> Portfolio | None:
        ref = keyed_ref(id_or_key, "Portfolio")
        return await info.context.fetch(
            lambda ctx: portfolios.get_portfolio(ctx, ref), Portfolio.from_model
        )

    @strawberry.field(
        description="Portfolios, filtered; sorted by key, name, createdAt or updatedAt "
        "(`-` for descending; default key)."
    )
    async def portfolios(
        self,
        info: GqlInfo,
        first: First = DEFAULT_LIMIT,
        after: After = None,
        filter: PortfolioFilterInput | None = None,
        sort: str | None = None,
    ) -> Connection[Portfolio]:
        params = list_params(first, after, sort)
        filters = parse_model(PortfolioFilter, provided(filter, REFERENCES), "filter")
        return await info.context.fetch(
            lambda ctx: portfolios.list_portfolios(ctx, filters, params),
            lambda page: connection(page, Portfolio.from_model),
        )


@strawberry.type
class PortfoliosMutation:
    @strawberry.mutation(description="Create a portfolio (pmo, admin).")
    async def create_portfolio(
        self, info: GqlInfo, input: CreatePortfolioInput
    ) -> CreatePortfolioResult:
        data = parse_model(PortfolioCreate, provided(input, REFERENCES))
        return await info.context.change(
            lambda ctx: portfolios.create_portfolio(ctx, data), PortfolioPayload.of
        )

    @strawberry.mutation(description="Change the fields sent (pmo, admin).")
    async def update_portfolio(
        self,
        info: GqlInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description=ID_DESCRIPTION)],
        input: UpdatePortfolioInput,
        expected_version: int | None = None,
    ) -> UpdatePortfolioResult:
        ref = keyed_ref(id, "Portfolio", "id")
        patch = parse_model(PortfolioUpdate, provided(input, REFERENCES))
        return await info.context.change(
            lambda ctx: portfolios.update_portfolio(ctx, ref, patch, expected_version),
            PortfolioPayload.of,
        )

    @strawberry.mutation(description="Archive an empty portfolio (pmo, admin).")
    async def archive_portfolio(
        self,
        info: GqlInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description=ID_DESCRIPTION)],
        expected_version: int | None = None,
    ) -> ArchivePortfolioResult:
        ref = keyed_ref(id, "Portfolio", "id")
        return await info.context.change(
            lambda ctx: portfolios.archive_portfolio(ctx, ref, expected_version),
            PortfolioPayload.of,
        )
