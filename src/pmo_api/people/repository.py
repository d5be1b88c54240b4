from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from pmo_api.db.records import text_search
from pmo_api.db.repository import Repository
from pmo_api.people.models import Person
from pmo_api.people.schemas import PersonFilter


class PersonRepository(Repository[Person]):
    """The directory of people is readable by every role."""

    entity = "person"
    model = Person
    sortable = {
        "name": Person.name,
        "email": Person.email,
        "created_at": Person.created_at,
        "updated_at": Person.updated_at,
    }

    async def by_email(self, email: str) -> Person | None:
        found: Person | None = await self.session.scalar(
            select(Person).where(Person.email == email)
        )
        return found

    bound_filters = frozenset({"updated_since", "email"})

    def filtered(self, stmt: Select[Any], filters: PersonFilter) -> Select[Any]:
        stmt = super().filtered(stmt, filters)
        if filters.q:
            stmt = stmt.where(text_search(filters.q, (Person.name, Person.email, Person.title)))
        if filters.email:
            stmt = stmt.where(Person.email == filters.email)
        if filters.active is not None:
            stmt = stmt.where(Person.active.is_(filters.active))
        # over_allocated is staffing's query: listings/people.py applies it.
        return stmt
