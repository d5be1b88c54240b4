"""People over GraphQL: the Person type, its inputs, queries and mutations."""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
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
from pmo_api.api.graphql.execution import plain
from pmo_api.api.graphql.inputs import provided
from pmo_api.api.graphql.relay import (
    After,
    Connection,
    First,
    Node,
    as_record,
    connection,
    list_params,
    to_global_id,
    uuid_ref,
)
from pmo_api.core.pagination import DEFAULT_LIMIT
from pmo_api.listings import people as listed_people
from pmo_api.people import models
from pmo_api.people import service as people
from pmo_api.people.schemas import PersonCreate, PersonFilter, PersonUpdate

if TYPE_CHECKING:
    from pmo_api.api.graphql.staffing import Allocation

LazyAllocation = Annotated["Allocation", strawberry.lazy("pmo_api.api.graphql.staffing")]


@strawberry.type(description="A skill and how well the person holds it, 1 (novice) to 5.")
class Skill:
    skill: str
    level: int


@strawberry.type(description="Someone in the directory: manager, sponsor, owner, team member.")
class Person(Node):
    uuid: UUID = strawberry.field(description="The REST id.")
    name: str
    email: str
    title: str | None
    weekly_capacity_hours: float
    active: bool
    version: int = strawberry.field(description="Pass as `expectedVersion` to update safely.")
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None

    stored_skills: strawberry.Private[list[dict[str, Any]]]
    """The skills as stored: made into Skill objects only when a query asks for them."""

    @strawberry.field
    @plain
    def skills(self) -> list[Skill]:
        return [Skill(skill=s["skill"], level=s["level"]) for s in self.stored_skills]

    @strawberry.field(
        description="The person's peak daily load per ISO week (default: the 12 weeks from the "
        "current one; at most 104)."
    )
    async def allocation(
        self,
        info: GqlInfo,
        from_: Annotated[
            date | None, strawberry.argument(name="from", description="A day of the first week.")
        ] = None,
        to: Annotated[
            date | None, strawberry.argument(description="A day of the last week.")
        ] = None,
    ) -> LazyAllocation:
        return await info.context.loaders.staffing.allocation_of(self.uuid, from_, to)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Person:
        """A person read as a row (``db.reads``)."""
        return cls.from_model(as_record(row))

    @classmethod
    def from_model(cls, person: models.Person) -> Person:
        return cls(
            id=to_global_id("Person", person.id),
            uuid=person.id,
            name=person.name,
            email=person.email,
            title=person.title,
            stored_skills=person.skills,
            weekly_capacity_hours=person.weekly_capacity_hours,
            active=person.active,
            version=person.version,
            created_at=person.created_at,
            updated_at=person.updated_at,
            archived_at=person.archived_at,
        )


@strawberry.input(description="A skill and its level, 1 to 5.")
class SkillInput:
    skill: str
    level: int


@strawberry.input(name="PersonFilter", description="Filters for `people`; all must match.")
class PersonFilterInput:
    q: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
    over_allocated: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Peak daily load over 100 % on some day (or not); archived assignments "
        "and assignments on archived projects do not count.",
    )
    include_archived: bool = False
    updated_since: datetime | None = strawberry.UNSET


@strawberry.input
class CreatePersonInput:
    name: str
    email: str
    title: str | None = strawberry.UNSET
    skills: list[SkillInput] | None = strawberry.UNSET
    weekly_capacity_hours: float | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@strawberry.input(description="Only the fields sent change; null clears where allowed.")
class UpdatePersonInput:
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    skills: list[SkillInput] | None = strawberry.UNSET
    weekly_capacity_hours: float | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@strawberry.type
class PersonPayload:
    person: Person

    @classmethod
    def of(cls, person: models.Person | Mapping[str, Any]) -> PersonPayload:
        return cls(person=Person.from_model(as_record(person)))


CreatePersonResult = Annotated[
    PersonPayload | ForbiddenError | ValidationError | ConflictError,
    strawberry.union("CreatePersonResult"),
]
UpdatePersonResult = Annotated[PersonPayload | ChangeErrors, strawberry.union("UpdatePersonResult")]
ArchivePersonResult = Annotated[
    PersonPayload | ChangeErrors, strawberry.union("ArchivePersonResult")
]


@strawberry.type
class PeopleQuery:
    @strawberry.field(description="One person by global id or UUID.")
    async def person(self, info: GqlInfo, id: strawberry.ID) -> Person | None:
        person_id = uuid_ref(id, "Person")
        return await info.context.fetch(
            lambda ctx: people.get_person(ctx, person_id), Person.from_model
        )

    @strawberry.field(
        description="The directory, sorted by `sort` (name, email, createdAt, "
        "updatedAt; `-` for descending; default name)."
    )
    async def people(
        self,
        info: GqlInfo,
        first: First = DEFAULT_LIMIT,
        after: After = None,
        filter: PersonFilterInput | None = None,
        sort: str | None = None,
    ) -> Connection[Person]:
        params = list_params(first, after, sort)
        filters = parse_model(PersonFilter, provided(filter), "filter")
        return await info.context.fetch(
            lambda ctx: listed_people.list_people(ctx, filters, params),
            lambda page: connection(page, Person.from_model),
        )


@strawberry.type
class PeopleMutation:
    @strawberry.mutation(description="Add a person to the directory (pmo, admin).")
    async def create_person(self, info: GqlInfo, input: CreatePersonInput) -> CreatePersonResult:
        data = parse_model(PersonCreate, provided(input))
        return await info.context.change(
            lambda ctx: people.create_person(ctx, data), PersonPayload.of
        )

    @strawberry.mutation(description="Change the fields sent (pmo, admin).")
    async def update_person(
        self,
        info: GqlInfo,
        id: strawberry.ID,
        input: UpdatePersonInput,
        expected_version: int | None = None,
    ) -> UpdatePersonResult:
        person_id = uuid_ref(id, "Person")
        patch = parse_model(PersonUpdate, provided(input))
        return await info.context.change(
            lambda ctx: people.update_person(ctx, person_id, patch, expected_version),
            PersonPayload.of,
        )

    @strawberry.mutation(description="Archive a person: still readable by id, hidden in lists.")
    async def archive_person(
        self, info: GqlInfo, id: strawberry.ID, expected_version: int | None = None
    ) -> ArchivePersonResult:
        person_id = uuid_ref(id, "Person")
        return await info.context.change(
            lambda ctx: people.archive_person(ctx, person_id, expected_version),
            PersonPayload.of,
        )
