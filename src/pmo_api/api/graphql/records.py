"""What the GraphQL types of a project's control records (risks, milestones, costs,
status reports ...) share: the REST id, the version and timestamps, the project they
belong to, and the people they name."""

# strawberry.field(description=...) is typed as returning Any.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Protocol
from uuid import UUID

import strawberry

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.relay import Node, to_global_id

if TYPE_CHECKING:
    from pmo_api.api.graphql.people import Person
    from pmo_api.api.graphql.projects import Project

LazyProject = Annotated["Project", strawberry.lazy("pmo_api.api.graphql.projects")]


@strawberry.type
class ProjectRecord(Node):
    uuid: UUID = strawberry.field(description="The REST id.")
    version: int = strawberry.field(description="Pass as `expectedVersion` to update safely.")
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None

    project_id: strawberry.Private[UUID]

    @strawberry.field(description="The project the record belongs to.")
    async def project(self, info: GqlInfo) -> LazyProject | None:
        return await info.context.loaders.project.load(self.project_id)


class _Row(Protocol):
    @property
    def id(self) -> UUID: ...
    @property
    def version(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def archived_at(self) -> datetime | None: ...
    @property
    def project_id(self) -> UUID: ...


def record_fields(type_name: str, row: _Row) -> dict[str, Any]:
    """The ``ProjectRecord`` fields of a record's GraphQL type, from its row."""
    return {
        "id": to_global_id(type_name, row.id),
        "uuid": row.id,
        "version": row.version,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "archived_at": row.archived_at,
        "project_id": row.project_id,
    }


async def load_person(info: GqlInfo, person_id: UUID | None) -> Person | None:
    """The person a record names (an owner, the person a deciding key acts for...)."""
    if person_id is None:
        return None
    person: Person | None = await info.context.loaders.person.load(person_id)
    return person
