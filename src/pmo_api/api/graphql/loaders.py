"""Per-request DataLoaders: every nested field is one batched call of a service batch
function (each declared resource type's ``resources.service.read_many``,
``get_projects``, each project record type's ``records.service.get_many`` and
``pages``), so the visibility
rules of the services apply to nested data, and a nested query costs one statement
per level and type, whatever the page size."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pmo_api.api.graphql.compliance import ComplianceLoaders
from pmo_api.api.graphql.portfolios import PortfolioLoaders
from pmo_api.api.graphql.raid import RaidLoaders
from pmo_api.api.graphql.records import RecordLoaders
from pmo_api.api.graphql.relay import LoaderSet, Node, from_global_id
from pmo_api.api.graphql.reporting import ReportingLoaders
from pmo_api.api.graphql.resources import NODE_READS, ResourceLoaders
from pmo_api.api.graphql.schedule import ScheduleLoaders
from pmo_api.api.graphql.staffing import StaffingLoaders
from pmo_api.core.errors import ErrorDetail, InvalidInput

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext


class Loaders(LoaderSet):
    def __init__(self, context: GraphQLContext) -> None:
        super().__init__(context)
        self.resources = self.include(ResourceLoaders(context))
        self.person = self.resources.node["person"]
        self.portfolio = self.resources.node["portfolio"]
        self.project = self.resources.node["project"]
        self.records = self.include(RecordLoaders(context))
        self.portfolios = self.include(PortfolioLoaders(context))
        self.reporting = self.include(ReportingLoaders(context))
        self.raid = self.include(RaidLoaders(context))
        self.schedule = self.include(ScheduleLoaders(context))
        self.staffing = self.include(StaffingLoaders(context))
        self.compliance = self.include(ComplianceLoaders(context))

    @staticmethod
    async def read_nodes(
        context: GraphQLContext, type_name: str, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Node]:
        """The nodes of one type with these ids that the caller sees, read at once (one
        statement, the loader's own): for a page that holds all the ids it needs, with
        no loader made and no loader's scheduling."""
        batch, present = NODE_READS[type_name]
        return await context.fetch(
            lambda ctx: batch(ctx, ids), lambda rows: {row["id"]: present(row) for row in rows}
        )

    async def node(self, global_id: str) -> Node | None:
        """The node a global id names, or None when it names nothing the caller sees."""
        decoded = from_global_id(global_id)
        if decoded is None:
            raise InvalidInput(
                code="invalid_identifier",
                detail=f"{global_id!r} is not a global id of this service.",
                errors=[ErrorDetail(("id",), "not a global id", "value_error")],
            )
        type_name, row_id = decoded
        loader = self.by_type.get(type_name)
        return None if loader is None else await loader.load(row_id)

    async def entity(self, entity_type: str, row_id: uuid.UUID) -> Node | None:
        loader = self.by_entity_type.get(entity_type)
        return None if loader is None else await loader.load(row_id)
