"""An assumption's own rule: once validated or invalidated it says what settled it."""

from __future__ import annotations

from typing import Any

from pmo_api.assumptions.models import SETTLED_ASSUMPTION_STATUSES, Assumption
from pmo_api.core.context import ServiceContext
from pmo_api.projects.models import Project
from pmo_api.records.declaration import RecordRules
from pmo_api.records.rules import NoteRequired

RESOLUTION = NoteRequired(
    "resolution",
    "status",
    SETTLED_ASSUMPTION_STATUSES,
    "resolution_required",
    "required when validated or invalidated",
)
"""A validated or invalidated assumption carries a resolution (422 ``resolution_required``)."""


class AssumptionRules(RecordRules[Assumption]):
    async def creating(self, ctx: ServiceContext, project: Project, values: dict[str, Any]) -> None:
        RESOLUTION.check("assumption", values)

    async def updating(
        self, ctx: ServiceContext, record: Assumption, values: dict[str, Any]
    ) -> None:
        RESOLUTION.check("assumption", values, record)
