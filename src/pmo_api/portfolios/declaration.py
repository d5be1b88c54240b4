"""Portfolios and programs, declared once: a tree (cycles refused) that projects
belong to."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict, ErrorDetail, InvalidInput
from pmo_api.core.schemas import Key, Money, Name, Text
from pmo_api.db.records import has_live_dependents
from pmo_api.people.declaration import PERSON
from pmo_api.portfolios import access
from pmo_api.portfolios.models import Portfolio
from pmo_api.portfolios.repository import PortfolioReads
from pmo_api.resources.declaration import Docs, ResourceRules, ResourceType, Writers
from pmo_api.resources.fields import Field, Filter, Reference
from pmo_api.resources.repository import ResourceRepository

PORTFOLIO = Reference(Portfolio, "portfolio", "Portfolio")
"""A field naming a portfolio (its parent, a project's portfolio)."""


class PortfolioRules(ResourceRules[Portfolio]):
    """A portfolio is never nested inside itself or one of its descendants, and only an
    empty one (no live projects, no live sub-portfolios) is archived."""

    async def updating(self, ctx: ServiceContext, obj: Portfolio, values: dict[str, Any]) -> None:
        new_parent = values.get("parent_id")
        if new_parent is None:
            return
        ancestors = await PortfolioRepository(ctx.session).ancestor_ids(new_parent)
        if obj.id in ancestors:
            raise InvalidInput(
                code="portfolio_cycle",
                detail="A portfolio cannot be nested inside itself or one of its descendants.",
                errors=[ErrorDetail(("body", "parent_id"), "would create a cycle", "value_error")],
            )

    async def archiving(self, ctx: ServiceContext, obj: Portfolio) -> None:
        if await has_live_dependents(ctx.session, Portfolio, obj.id):
            raise Conflict(
                code="portfolio_not_empty",
                detail="Archive or move the portfolio's projects and sub-portfolios first.",
            )


PORTFOLIOS = ResourceType(
    name="portfolio",
    model=Portfolio,
    keyed=True,
    fields=(
        Field("key", Key),
        Field("name", Name),
        Field("description", Text | None, None),
        Field(
            "owner_id",
            uuid.UUID | None,
            None,
            "The person accountable for the portfolio.",
            refers_to=PERSON,
        ),
        Field(
            "parent_id",
            uuid.UUID | None,
            None,
            "The enclosing portfolio; null at the top of the tree.",
            refers_to=PORTFOLIO,
        ),
        Field("budget_cap", Money | None, None),
    ),
    filters=(
        Filter.search(
            (Portfolio.key, Portfolio.name, Portfolio.description),
            "Text search in key, name and description.",
        ),
        Filter.equal(Portfolio.parent_id, uuid.UUID),
        Filter(
            "root",
            bool,
            lambda value, _today: (
                Portfolio.parent_id.is_(None) if value else Portfolio.parent_id.is_not(None)
            ),
            "true: only top-level portfolios.",
        ),
        Filter.equal(Portfolio.owner_id, uuid.UUID),
    ),
    sorts=("key", "name", "created_at", "updated_at"),
    default_sort="key",
    writers=Writers(
        access.can_edit, ("role_forbidden", "Only pmo and admin keys change portfolios.")
    ),
    rules=PortfolioRules(),
    unique="key",
    reads=PortfolioReads,
    docs=Docs(
        summary="A portfolio or program: projects belong to it, programs nest.",
        listed="Portfolios, filtered",
        create="Create a portfolio (pmo, admin).",
        update="Change the fields sent (pmo, admin).",
        archive="Archive an empty portfolio (pmo, admin).",
    ),
)

if TYPE_CHECKING:

    class PortfolioRepository(PortfolioReads, ResourceRepository[Portfolio]):
        """The portfolio reads: every resource's, and the tree's."""

else:
    PortfolioRepository = PORTFOLIOS.repository
