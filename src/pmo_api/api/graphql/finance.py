"""Costs over GraphQL: the CostEntry type, its inputs and mutations, and the batched
per-project pages behind ``Project.costs``."""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
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
from pmo_api.finance import models
from pmo_api.finance import service as finance
from pmo_api.finance.models import CostCategory
from pmo_api.finance.schemas import CostCreate, CostUpdate

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext
    from pmo_api.api.graphql.projects import Project

strawberry.enum(CostCategory, description="What a cost was spent on.")

LazyProject = Annotated["Project", strawberry.lazy("pmo_api.api.graphql.projects")]

RowT = TypeVar("RowT")
NodeT = TypeVar("NodeT")
PageKey = tuple[UUID, ListParams]
"""A nested connection's key: the project and the page asked of it."""


def project_pages_loader(
    context: GraphQLContext,
    batch: Callable[
        [ServiceContext, Sequence[UUID], ListParams], Awaitable[dict[UUID, Page[RowT]]]
    ],
    present: Callable[[RowT], NodeT],
) -> DataLoader[PageKey, Connection[NodeT]]:
    """A DataLoader of per-project connections: one service batch call (one statement)
    per distinct page request, for every project of the page being resolved."""

    async def load(keys: list[PageKey]) -> list[Connection[NodeT]]:
        wanted: dict[ListParams, list[UUID]] = {}
        for project_id, params in keys:
            wanted.setdefault(params, []).append(project_id)
        found: dict[PageKey, Connection[NodeT]] = {}
        for params, project_ids in wanted.items():
            pages = await context.fetch(
                lambda ctx, ids=project_ids, p=params: batch(ctx, ids, p),  # type: ignore[misc]
                lambda pages: {pid: connection(page, present) for pid, page in pages.items()},
            )
            for project_id, conn in pages.items():
                found[(project_id, params)] = conn
        return [found[key] for key in keys]

    return DataLoader(load_fn=load)


def rows_loader(
    context: GraphQLContext,
    batch: Callable[[ServiceContext, Sequence[UUID]], Awaitable[Sequence[RowT]]],
    present: Callable[[RowT], NodeT],
) -> DataLoader[UUID, NodeT | None]:
    """A DataLoader of records by id over a service batch read (one statement a batch)."""

    async def load(ids: list[UUID]) -> list[NodeT | None]:
        found = await context.fetch(
            lambda ctx: batch(ctx, ids),
            lambda rows: {row.id: present(row) for row in rows},  # type: ignore[attr-defined]
        )
        return [found.get(row_id) for row_id in ids]

    return DataLoader(load_fn=load)


@strawberry.type(description="A dated cost of a project; their sum is its actual cost.")
class CostEntry(Node):
    uuid: UUID = strawberry.field(description="The REST id.")
    incurred_on: date
    amount: Money = strawberry.field(description="Negative for a correction or a credit.")
    category: CostCategory
    description: str
    reference: str | None = strawberry.field(description="External id, e.g. invoice number.")
    version: int = strawberry.field(description="Pass as `expectedVersion` to update safely.")
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None

    project_id: strawberry.Private[UUID]

    @strawberry.field(description="The project the cost was incurred on.")
    async def project(self, info: GqlInfo) -> LazyProject | None:
        return await info.context.loaders.project.load(self.project_id)

    @classmethod
    def from_model(cls, cost: models.CostEntry) -> CostEntry:
        return cls(
            id=to_global_id("CostEntry", cost.id),
            uuid=cost.id,
            incurred_on=cost.incurred_on,
            amount=Money(cost.amount),
            category=cost.category,
            description=cost.description,
            reference=cost.reference,
            version=cost.version,
            created_at=cost.created_at,
            updated_at=cost.updated_at,
            archived_at=cost.archived_at,
            project_id=cost.project_id,
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


RecordCostResult = Annotated[
    CostPayload | NotFoundError | ForbiddenError | ValidationError | ConflictError,
    strawberry.union("RecordCostResult"),
]
UpdateCostResult = Annotated[
    CostPayload
    | NotFoundError
    | ForbiddenError
    | VersionMismatchError
    | ValidationError
    | ConflictError,
    strawberry.union("UpdateCostResult"),
]
ArchiveCostResult = Annotated[
    CostPayload
    | NotFoundError
    | ForbiddenError
    | VersionMismatchError
    | ValidationError
    | ConflictError,
    strawberry.union("ArchiveCostResult"),
]


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


class FinanceLoaders:
    """The per-request loaders of costs: by id, and each project's first page."""

    def __init__(self, context: GraphQLContext) -> None:
        self.cost = rows_loader(context, finance.get_costs, CostEntry.from_model)
        self.project_costs = project_pages_loader(
            context, finance.first_costs_of_projects, CostEntry.from_model
        )
        self.by_type: dict[str, DataLoader[UUID, Any]] = {"CostEntry": self.cost}
        self.by_entity_type: dict[str, DataLoader[UUID, Any]] = {"cost": self.cost}

    def clear_all(self) -> None:
        self.cost.clear_all()
        self.project_costs.clear_all()


async def project_costs(
    info: GqlInfo, project_id: UUID, first: int, after: str | None
) -> Connection[CostEntry]:
    """``Project.costs``: batched over the page of projects being resolved."""
    params = list_params(first, after, None)
    return await info.context.loaders.finance.project_costs.load((project_id, params))
