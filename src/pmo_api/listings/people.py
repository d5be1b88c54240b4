"""The people list, with the over-allocation filter (staffing's query)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from pmo_api.core.context import ServiceContext
from pmo_api.core.pagination import ListParams, Page
from pmo_api.db.reads import Row
from pmo_api.db.repository import build_page_request
from pmo_api.people.models import Person
from pmo_api.people.repository import PersonRepository
from pmo_api.people.schemas import PersonFilter
from pmo_api.staffing.repository import over_allocated


class ListedPeople(PersonRepository):
    """People as lists filter them: also by over-allocation."""

    def filtered(self, stmt: Select[Any], filters: PersonFilter) -> Select[Any]:
        stmt = super().filtered(stmt, filters)
        if filters.over_allocated is not None:
            loaded = over_allocated(Person.id)
            stmt = stmt.where(loaded if filters.over_allocated else ~loaded)
        return stmt


async def read_people(ctx: ServiceContext, filters: PersonFilter, params: ListParams) -> Page[Row]:
    """``list_people`` as rows."""
    page = build_page_request(
        params, columns=ListedPeople.sortable, default_sort="name", filters=filters.model_dump()
    )
    return await ListedPeople.reading(ctx).read_list(ctx.reads, ctx.principal, filters, page)


async def list_people(
    ctx: ServiceContext, filters: PersonFilter, params: ListParams
) -> Page[Person]:
    page = build_page_request(
        params, columns=ListedPeople.sortable, default_sort="name", filters=filters.model_dump()
    )
    return await ListedPeople(ctx.session).filtered_page(ctx.principal, filters, page)
