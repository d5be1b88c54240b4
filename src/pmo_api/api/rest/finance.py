"""The REST routes of costs: listed and recorded under their project, read, changed and
archived by their own id."""

from __future__ import annotations

from pmo_api.api.rest.children import ChildResource, child_routers
from pmo_api.finance import service as finance
from pmo_api.finance.schemas import CostCreate, CostFilter, CostRead, CostUpdate

nested, own = child_routers(
    ChildResource(
        path="/costs",
        noun="cost",
        read=CostRead,
        create=CostCreate,
        filter=CostFilter,
        list_=finance.list_costs,
        get=finance.get_cost,
        create_=finance.record_cost,
        update=CostUpdate,
        update_=finance.update_cost,
        archive=finance.archive_cost,
    ),
    "costs",
)

routers = (nested, own)
