"""Costs over GraphQL: the CostEntry type, its inputs and mutations, and the batched
per-project pages behind ``Project.costs``."""

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
    uuid_ref,
)
from pmo_api.api.graphql.scalars import Money
from pmo_api.finance import models
from pmo_api.finance import service as finance
from pmo_api.finance.models import CostCategory
from pmo_api.finance.schemas import CostCreate, CostUpdate

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext

strawberry.enum(CostCategory, description="What a cost was spent on.")


@strawberry.type(description="A dated cost of a project; their sum is its actual cost.")
class CostEntry(ProjectRecord):
    incurred_on: date
    amount: Money = strawberry.field(description="Negative for a correction or a credit.")
    category: CostCategory
    description: str
    reference: str | None = strawberry.field(description="External id, e.g. invoice number.")

    @classmethod
    def from_model(cls, cost: models.CostEntry) -> CostEntry:
        return cls(
            **record_fields("CostEntry", cost),
            incurred_on=cost.incurred_on,
            amount=Money(cost.amount),
            category=cost.category,
            description=cost.description,
            reference=cost.reference,
        )


@strawberry.input(description="A cost incurred on a project.")
class RecordCostInput:
    incurred_on: date
    amount: Money = strawberry.field(description="Not zero; negative for a correction.")
    category: CostCategory
    description: str
    reference: str | None = strawberry.UNSET


@strawberry.input(description="Only the fields sent change; null clears where allowed.")
class UpdateCostInput:
    incurred_on: date | None = strawberry.UNSET
    amount: Money | None = strawberry.UNSET
    category: CostCategory | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    reference: str | None = strawberry.UNSET


@strawberry.type
class CostPayload:
    cost: CostEntry

    @classmethod
    def of(cls, cost: models.CostEntry) -> CostPayload:
        return cls(cost=CostEntry.from_model(cost))


RecordCostResult = Annotated[CostPayload | CreateErrors, strawberry.union("RecordCostResult")]
UpdateCostResult = Annotated[CostPayload | ChangeErrors, strawberry.union("UpdateCostResult")]
ArchiveCostResult = Annotated[CostPayload | ChangeErrors, strawberry.union("ArchiveCostResult")]


@strawberry.type
class FinanceMutation:
    @strawberry.mutation(
        description="Record a cost on a project (pmo, admin; a manager: their own); the "
        "project's actual cost becomes the exact sum of its entries."
    )
    async def record_cost(
        self,
        info: GqlInfo,
        project_id: Annotated[
            strawberry.ID, strawberry.argument(description="The project's global id, UUID or key.")
        ],
        input: RecordCostInput,
    ) -> RecordCostResult:
        ref = keyed_ref(project_id, "Project", "projectId")
        data = parse_model(CostCreate, provided(input))
        return await info.context.change(
            lambda ctx: finance.record_cost(ctx, ref, data), CostPayload.of
        )

    @strawberry.mutation(description="Change the fields sent; the actual cost follows.")
    async def update_cost(
        self,
        info: GqlInfo,
        id: strawberry.ID,
        input: UpdateCostInput,
        expected_version: int | None = None,
    ) -> UpdateCostResult:
        cost_id = uuid_ref(id, "CostEntry")
        patch = parse_model(CostUpdate, provided(input))
        return await info.context.change(
            lambda ctx: finance.update_cost(ctx, cost_id, patch, expected_version),
            CostPayload.of,
        )

    @strawberry.mutation(description="Archive a cost: it no longer counts in the actual cost.")
    async def archive_cost(
        self, info: GqlInfo, id: strawberry.ID, expected_version: int | None = None
    ) -> ArchiveCostResult:
        cost_id = uuid_ref(id, "CostEntry")
        return await info.context.change(
            lambda ctx: finance.archive_cost(ctx, cost_id, expected_version), CostPayload.of
        )


class FinanceLoaders(LoaderSet):
    """The per-request loaders of costs: by id, and each project's first page."""

    def __init__(self, context: GraphQLContext) -> None:
        super().__init__(context)
        self.cost = self.nodes("CostEntry", "cost", finance.get_costs, CostEntry.from_model)
        self.project_costs = self.pages(finance.first_costs_of_projects, CostEntry.from_model)

    async def costs_of(
        self, project_id: UUID, first: int | None, after: str | None
    ) -> Connection[CostEntry]:
        """``Project.costs``: batched over the page of projects being resolved."""
        return await self.project_costs.load((project_id, list_params(first, after, None)))
