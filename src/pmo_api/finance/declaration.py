"""Costs, declared once: a project's dated cost entries, whose sum is its actual cost."""

from __future__ import annotations

from pmo_api.core.schemas import Day, SignedMoney
from pmo_api.finance import service
from pmo_api.finance.models import CostCategory, CostEntry
from pmo_api.finance.schemas import Amount, Description, ExternalReference
from pmo_api.records.declaration import Docs, Events, Field, Filter, Range, RecordType

COSTS = RecordType(
    name="cost",
    model=CostEntry,
    type_name="CostEntry",
    payload="CostPayload",
    create_verb="record",
    fields=(
        Field("incurred_on", Day),
        Field("amount", Amount, read_as=SignedMoney),
        Field("category", CostCategory),
        Field("description", Description),
        Field("reference", ExternalReference | None, None),
    ),
    filters=(
        Filter.one_of(CostEntry.category, CostCategory),
        Range(
            Filter.at_least("incurred_from", CostEntry.incurred_on, Day, "Incurred on or after."),
            Filter.at_most("incurred_to", CostEntry.incurred_on, Day, "Incurred on or before."),
        ),
    ),
    sorts=("incurred_on", "amount", "created_at", "updated_at"),
    default_sort="incurred_on",
    rules=service.CostRules(),
    events=Events(created="recorded"),
    docs=Docs(
        summary="A dated cost of a project; their sum is its actual cost.",
        listed="by date incurred",
        create="Record a cost on a project (pmo, admin; a manager: their own); the "
        "project's actual cost becomes the exact sum of its entries.",
        update="Change the fields sent; the actual cost follows.",
        archive="Archive a cost: it no longer counts in the actual cost.",
    ),
)
