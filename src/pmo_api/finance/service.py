"""Costs: every entry is recorded, changed and archived under its project's row lock, and
the project's actual cost is then recomputed by the database as the SUM of the
non-archived entries, in the same transaction. Concurrent writers queue on the lock, so
the figure is always exactly the sum of the entries, never a lost or double-counted delta.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict, ErrorDetail, InvalidInput
from pmo_api.core.schemas import MAX_MONEY
from pmo_api.db.records import apply_changes
from pmo_api.events.service import save_changes
from pmo_api.finance import repository
from pmo_api.finance.models import CostEntry
from pmo_api.projects.declaration import PROJECTS
from pmo_api.projects.models import Project
from pmo_api.records.declaration import RecordRules


async def _settle_actual_cost(
    ctx: ServiceContext, project: Project, *, archiving: bool = False
) -> None:
    """Set the locked project's actual cost to the SUM of its entries and record the
    change. A total below 0 (a correction larger than the costs) or above the largest
    amount is refused: 422 on the amount sent, 409 when archiving an entry leads there."""
    total = await repository.actual_cost(ctx.session, project.id)
    if total < 0:
        code, limit = "actual_cost_negative", "it may not fall below 0"
    elif total > MAX_MONEY:
        code, limit = "actual_cost_too_large", f"it may not exceed {MAX_MONEY}"
    else:
        changes = apply_changes(ctx, project, {"actual_cost": total})
        await save_changes(ctx, project, PROJECTS.updated_event, changes)
        return
    if archiving:
        raise Conflict(
            code=code,
            detail=f"Archiving this entry would bring the project's actual cost to {total}: "
            f"{limit}. Archive or correct the entries that offset it first.",
        )
    raise InvalidInput(
        code=code,
        detail=f"This would bring the project's actual cost to {total}: {limit}.",
        errors=[ErrorDetail(("body", "amount"), f"actual cost {total}: {limit}", "value_error")],
    )


class CostRules(RecordRules[CostEntry]):
    """Every write holds the project's row lock; the actual cost follows the entries."""

    lock_project = True

    async def created(self, ctx: ServiceContext, project: Project, record: CostEntry) -> None:
        await _settle_actual_cost(ctx, project)

    async def updated(
        self,
        ctx: ServiceContext,
        project: Project,
        record: CostEntry,
        changes: Mapping[str, Any],
    ) -> None:
        if "amount" in changes:
            await _settle_actual_cost(ctx, project)

    async def archived(self, ctx: ServiceContext, project: Project, record: CostEntry) -> None:
        await _settle_actual_cost(ctx, project, archiving=True)
