"""People: the directory of managers, sponsors, owners and team members."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Forbidden
from pmo_api.db import writes
from pmo_api.db.reads import Row
from pmo_api.db.records import apply_changes, archive_record, check_version
from pmo_api.db.repository import flush_unique
from pmo_api.events.service import create_recorded, record
from pmo_api.events.types import Event, EventType
from pmo_api.people import access
from pmo_api.people.models import Person
from pmo_api.people.repository import PersonRepository
from pmo_api.people.schemas import PersonCreate, PersonUpdate

ENTITY = "person"
CREATES = writes.Creates(Person.__table__, entity=ENTITY, unique="email")  # type: ignore[arg-type]


def _refuse_unless_editor(ctx: ServiceContext) -> None:
    if not access.can_edit(ctx.principal):
        raise Forbidden(code="role_forbidden", detail="Only pmo and admin keys change people.")


async def get_person(ctx: ServiceContext, person_id: uuid.UUID) -> Person:
    return await PersonRepository(ctx.session).require(person_id, ctx.principal)


async def read_person(ctx: ServiceContext, ref: uuid.UUID) -> Row:
    """``get_person`` as a row, for a read-only request (see ``db.reads``)."""
    return await PersonRepository.reading(ctx).read(ctx.reads, ref, ctx.principal)


async def get_people(ctx: ServiceContext, ids: Sequence[uuid.UUID]) -> list[Row]:
    """Batch read for DataLoaders, as rows: the same visibility as a single read."""
    return await PersonRepository.reading(ctx).read_many(ctx.reads, ids, ctx.principal)


async def create_person(ctx: ServiceContext, data: PersonCreate) -> Row:
    """The new person as a row; written in one statement where the unit of work
    allows (``db.writes``)."""
    _refuse_unless_editor(ctx)
    return await create_recorded(ctx, CREATES, data.model_dump(), EventType.PERSON_CREATED)


async def update_person(
    ctx: ServiceContext, person_id: uuid.UUID, patch: PersonUpdate, expected_version: int | None
) -> Person:
    person = await get_person(ctx, person_id)
    _refuse_unless_editor(ctx)
    check_version(ENTITY, person, expected_version)
    changes = apply_changes(ctx, person, patch.changes())
    if changes:
        await flush_unique(ctx.session, ENTITY, "email")
        await record(ctx, Event(EventType.PERSON_UPDATED, person.id, changes))
    return person


async def archive_person(
    ctx: ServiceContext, person_id: uuid.UUID, expected_version: int | None
) -> Person:
    person = await get_person(ctx, person_id)
    _refuse_unless_editor(ctx)
    check_version(ENTITY, person, expected_version)
    changes = archive_record(ctx, ENTITY, person)
    await ctx.session.flush()
    await record(ctx, Event(EventType.PERSON_ARCHIVED, person.id, changes))
    return person
