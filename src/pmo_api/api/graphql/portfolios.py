"""What the Portfolio type shows its own way: its projects, a page of each portfolio's
in one statement (its type, inputs, lookup, list and mutations come from its
declaration: ``resources.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry

from pmo_api.api.graphql.compliance import PORTFOLIO_COMPLIANCE
from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.metrics import PORTFOLIO_HISTORY, PORTFOLIO_METRICS
from pmo_api.api.graphql.projects import SORT_DESCRIPTION, project_filter
from pmo_api.api.graphql.ranking import PORTFOLIO_RANKING
from pmo_api.api.graphql.relay import After, Connection, First, LoaderSet, list_params, same
from pmo_api.core.context import ServiceContext
from pmo_api.core.pagination import DEFAULT_LIMIT, ListParams, Page
from pmo_api.listings import projects as listed_projects
from pmo_api.projects.models import Project as ProjectModel

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext
    from pmo_api.api.graphql.resources import Project, ProjectFilter

LazyProject = Annotated["Project", strawberry.lazy("pmo_api.api.graphql.resources")]
LazyProjectFilter = Annotated["ProjectFilter", strawberry.lazy("pmo_api.api.graphql.resources")]


async def _projects(
    root: Any,
    info: GqlInfo,
    first: First = DEFAULT_LIMIT,
    after: After = None,
    filter: LazyProjectFilter | None = None,
    sort: str | None = None,
) -> Connection[LazyProject]:
    filters = project_filter(filter, portfolio_id=None)  # each portfolio's own, below
    return await info.context.loaders.portfolios.projects_of(root.id, first, after, filters, sort)


class PortfolioFields:
    """What the Portfolio type shows its own way (``resources.FIELDS``)."""

    projects = strawberry.field(
        resolver=_projects,
        description="The portfolio's projects (with `filter.includeSubPortfolios`, those of "
        "nested portfolios too); sorted by " + SORT_DESCRIPTION,
    )
    compliance = PORTFOLIO_COMPLIANCE
    ranking = PORTFOLIO_RANKING
    metrics = PORTFOLIO_METRICS
    history = PORTFOLIO_HISTORY


@dataclass(frozen=True)
class ProjectPageArgs:
    """What a page of a portfolio's projects is asked with; the same for every portfolio
    of a page, so they are one batch."""

    params: ListParams
    filters_json: str = field(init=False)
    filters: Any = field(compare=False)

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
        self.projects = self.pages(_project_pages, same)

    async def projects_of(
        self,
        portfolio_id: UUID,
        first: int | None,
        after: str | None,
        filters: Any,
        sort: str | None,
    ) -> Connection[Any]:
        """``Portfolio.projects``: one statement for the first pages of all the
        portfolios being resolved with the same arguments."""
        args = ProjectPageArgs(params=list_params(first, after, sort), filters=filters)
        return await self.projects.load((portfolio_id, args))
