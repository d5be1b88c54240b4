"""What the Person type shows its own way (its type, inputs, lookup, list and
mutations come from its declaration: ``resources.py``)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from pmo_api.api.graphql.context import GqlInfo

if TYPE_CHECKING:
    from pmo_api.api.graphql.staffing import Allocation

LazyAllocation = Annotated["Allocation", strawberry.lazy("pmo_api.api.graphql.staffing")]


async def _allocation(
    root: Any,
    info: GqlInfo,
    from_: Annotated[
        date | None, strawberry.argument(name="from", description="A day of the first week.")
    ] = None,
    to: Annotated[date | None, strawberry.argument(description="A day of the last week.")] = None,
) -> LazyAllocation:
    return await info.context.loaders.staffing.allocation_of(root.id, from_, to)


class PersonFields:
    """What the Person type shows its own way (``resources.FIELDS``)."""

    allocation = strawberry.field(
        resolver=_allocation,
        description="The person's peak daily load per ISO week (default: the 12 weeks from "
        "the current one; at most 104).",
    )
