"""Per-request DataLoaders: every nested field is one batched call of a service batch
function (``get_people``, ``get_portfolios``, ``get_projects``), so the visibility
rules of the services apply to nested data, and a nested query costs one statement
per level and type, whatever the page size."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from strawberry.dataloader import DataLoader

from pmo_api.api.graphql.people import Person
from pmo_api.api.graphql.portfolios import Portfolio
from pmo_api.api.graphql.projects import Project
from pmo_api.api.graphql.relay import Node, from_global_id
from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import ErrorDetail, InvalidInput
from pmo_api.people import service as people
from pmo_api.portfolios import service as portfolios
from pmo_api.projects import service as projects

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext


class _Row(Protocol):
    id: uuid.UUID


RowT = TypeVar("RowT", bound=_Row)
NodeT = TypeVar("NodeT", bound=Node)


class Loaders:
    def __init__(self, context: GraphQLContext) -> None:
        self._context = context
        self.person: DataLoader[uuid.UUID, Person | None] = self._loader(
            people.get_people, Person.from_model
        )
        self.portfolio: DataLoader[uuid.UUID, Portfolio | None] = self._loader(
            portfolios.get_portfolios, Portfolio.from_model
        )
        self.project: DataLoader[uuid.UUID, Project | None] = self._loader(
            projects.get_projects, Project.from_model
        )
        self._by_type: dict[str, DataLoader[uuid.UUID, Any]] = {
            "Person": self.person,
            "Portfolio": self.portfolio,
            "Project": self.project,
        }
        self._by_entity_type: dict[str, DataLoader[uuid.UUID, Any]] = {
            "person": self.person,
            "portfolio": self.portfolio,
            "project": self.project,
        }

    def _loader(
        self,
        batch: Callable[[ServiceContext, Sequence[uuid.UUID]], Awaitable[Sequence[RowT]]],
        present: Callable[[RowT], NodeT],
    ) -> DataLoader[uuid.UUID, NodeT | None]:
        async def load(ids: list[uuid.UUID]) -> list[NodeT | None]:
            found = await self._context.fetch(
                lambda ctx: batch(ctx, ids), lambda rows: {row.id: present(row) for row in rows}
            )
            return [found.get(row_id) for row_id in ids]

        return DataLoader(load_fn=load)

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
        loader = self._by_type.get(type_name)
        return None if loader is None else await loader.load(row_id)

    async def entity(self, entity_type: str, row_id: uuid.UUID) -> Node | None:
        loader = self._by_entity_type.get(entity_type)
        return None if loader is None else await loader.load(row_id)

    def clear_all(self) -> None:
        for loader in self._by_type.values():
            loader.clear_all()
