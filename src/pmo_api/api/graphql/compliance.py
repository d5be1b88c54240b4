"""Compliance over GraphQL: ``Project.compliance`` (batched: one evaluation for every
project of a page), ``Portfolio.compliance`` and the organisation's ``compliance``,
the same service and the same shapes as REST."""

# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.declared import document_type
from pmo_api.api.graphql.relay import LoaderSet, same
from pmo_api.standards import compliance
from pmo_api.standards.schemas import PortfolioCompliance, ProjectCompliance, ScopeCompliance

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext

ProjectComplianceType: Any = document_type(ProjectCompliance)
PortfolioComplianceType: Any = document_type(PortfolioCompliance)
ScopeComplianceType: Any = document_type(ScopeCompliance)


class ComplianceLoaders(LoaderSet):
    """Each project's compliance: the projects of a batch judged together (the same
    statements as one project)."""

    def __init__(self, context: GraphQLContext) -> None:
        super().__init__(context)
        self.of_project = self.keyed(compliance.projects_compliance, same, None)


async def _project(root: Any, info: GqlInfo) -> ProjectComplianceType | None:
    return await info.context.loaders.compliance.of_project.load(root.id)


async def _portfolio(
    root: Any, info: GqlInfo, include_sub_portfolios: bool = True
) -> PortfolioComplianceType:
    return await info.context.fetch(
        lambda ctx: compliance.portfolio_compliance(
            ctx, root.id, include_sub_portfolios=include_sub_portfolios
        ),
        same,
    )


PROJECT_COMPLIANCE = strawberry.field(
    resolver=_project,
    description="Every rule of the policies in force, judged on the project: pass, fail or "
    "not applicable, with the reason and the figures used.",
)
PORTFOLIO_COMPLIANCE = strawberry.field(
    resolver=_portfolio,
    description="The portfolio's live projects (and, by default, its sub-portfolios') "
    "against every rule in force: the rate and the failing rules ranked.",
)


@strawberry.type
class ComplianceQuery:
    @strawberry.field(description="Every live project against every rule in force.")
    async def compliance(self, info: GqlInfo) -> ScopeComplianceType:
        return await info.context.fetch(compliance.organisation_compliance, same)
