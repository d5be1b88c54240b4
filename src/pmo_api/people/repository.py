from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from pmo_api.core.context import Principal
from pmo_api.core.pagination import Page, PageRequest
from pmo_api.db.records import common_filters, text_search
from pmo_api.db.repository import keyset_page
from pmo_api.people.models import Person
from pmo_api.people.schemas import PersonFilter

SORTABLE = {
    "name": Person.name,
    "email": Person.email,
    "created_at": Person.created_at,
    "updated_at": Person.updated_at,
}


class PersonRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def visible_to(principal: Principal) -> Select[Person]:
        # The directory of people is readable by every role.
        return select(Person)

    async def get(self, person_id: uuid.UUID, principal: Principal | None = None) -> Person | None:
        return await self.session.get(Person, person_id)

    async def get_many(self, ids: Sequence[uuid.UUID], principal: Principal) -> list[Person]:
        if not ids:
            return []
        stmt = self.visible_to(principal).where(Person.id.in_(set(ids)))
        return list((await self.session.scalars(stmt)).all())

    async def by_email(self, email: str) -> Person | None:
        return await self.session.scalar(select(Person).where(Person.email == email))

    async def list(
        self, principal: Principal, filters: PersonFilter, page: PageRequest
    ) -> Page[Person]:
        stmt = common_filters(self.visible_to(principal), Person, filters)
        if filters.q:
            stmt = stmt.where(text_search(filters.q, (Person.name, Person.email, Person.title)))
        if filters.email:
            stmt = stmt.where(Person.email == filters.email)
        if filters.active is not None:
            stmt = stmt.where(Person.active.is_(filters.active))
        return await keyset_page(
            self.session, stmt, columns=SORTABLE, id_column=Person.id, request=page
        )
