"""Portfolios and programs, declared once: a tree (cycles refused) that projects
belong to."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field as Limits

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict, ErrorDetail, InvalidInput
from pmo_api.core.schemas import Key, Money, Name, Text
from pmo_api.db.records import has_live_dependents
from pmo_api.people.declaration import PERSON
from pmo_api.portfolios import access
from pmo_api.portfolios.models import PRIORITY_PARTS, Portfolio
from pmo_api.portfolios.repository import PortfolioReads
from pmo_api.resources.declaration import Docs, ResourceRules, ResourceType, Writers
from pmo_api.resources.fields import Field, Filter, Reference
from pmo_api.resources.repository import ResourceRepository

PriorityWeight = Annotated[int, Limits(ge=0, le=100, description="0 to 100.")]

PORTFOLIO = Reference(Portfolio, "portfolio", "Portfolio")
"""A field naming a portfolio (its parent, a project's portfolio)."""


_WEIGHTS = tuple(f"priority_weight_{part}" for part in PRIORITY_PARTS)


def _weights_count(sent: Mapping[str, Any], weights: Mapping[str, Any]) -> None:
    """The priority weights may not all be 0 (422 ``priority_weights_zero``)."""
    if not any(name in sent for name in _WEIGHTS) or any(weights.get(n) for n in _WEIGHTS):
        return
    raise InvalidInput(
        code="priority_weights_zero",
        detail="At least one priority weight is above 0: a ranking weighs something.",
        errors=[
            ErrorDetail(("body", name), "all the weights are 0", "value_error")
            for name in _WEIGHTS
            if name in sent
        ],
    )


class PortfolioRules(ResourceRules[Portfolio]):
    """A portfolio is never nested inside itself or one of its descendants, and only an
    empty one (no live projects, no live sub-portfolios) is archived."""

    def checking(self, values: Mapping[str, Any]) -> None:
        if all(name in values for name in _WEIGHTS):  # a create; a PATCH of all three
            _weights_count(values, values)

    async def updating(self, ctx: ServiceContext, obj: Portfolio, values: dict[str, Any]) -> None:
        _weights_count(values, {n: values.get(n, getattr(obj, n)) for n in _WEIGHTS})
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
        Field(
            "priority_weight_alignment",
            PriorityWeight,
            50,
            "How much a project's alignment with the objectives counts in its priority.",
        ),
        Field(
            "priority_weight_value",
            PriorityWeight,
            30,
            "How much a project's value for its cost counts in its priority.",
        ),
        Field(
            "priority_weight_risk",
            PriorityWeight,
            20,
            "How much carrying little open risk counts in a project's priority.",
        ),
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
