"""Costs: every entry is recorded, changed and archived under its project's row lock, and
the project's actual cost is then recomputed by the database as the SUM of the
non-archived entries, in the same transaction. Concurrent writers queue on the lock, so
the figure is always exactly the sum of the entries, never a lost or double-counted delta.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict, ErrorDetail, InvalidInput
from pmo_api.core.pagination import ListParams, Page
from pmo_api.core.schemas import MAX_MONEY
from pmo_api.db.records import apply_changes, refuse_archived
from pmo_api.events.types import EventType
from pmo_api.finance.models import CostEntry
from pmo_api.finance.repository import CostRepository
from pmo_api.finance.schemas import CostCreate, CostFilter, CostUpdate
from pmo_api.projects.control import (
    add_record,
    archive_project_record,
    list_project_records,
    project_for_writing,
    project_record_pages,
    record_for_writing,
    save_changes,
)
from pmo_api.projects.models import Project

ENTITY = "cost"
DEFAULT_SORT = "incurred_on"


async def get_cost(ctx: ServiceContext, cost_id: uuid.UUID) -> CostEntry:
    return await CostRepository(ctx.session).require(cost_id, ctx.principal)


async def get_costs(ctx: ServiceContext, ids: Sequence[uuid.UUID]) -> list[CostEntry]:
    return await CostRepository(ctx.session).get_many(ids, ctx.principal)


async def list_costs(
    ctx: ServiceContext, project_ref: uuid.UUID | str, filters: CostFilter, params: ListParams
) -> Page[CostEntry]:
    return await list_project_records(
        ctx, CostRepository(ctx.session), project_ref, filters, params, default_sort=DEFAULT_SORT
    )


async def first_costs_of_projects(
    ctx: ServiceContext, project_ids: Sequence[uuid.UUID], params: ListParams
) -> dict[uuid.UUID, Page[CostEntry]]:
    """The first page of each project's costs, default order, one statement (DataLoaders)."""
    return await project_record_pages(
        ctx,
        CostRepository(ctx.session),
        project_ids,
        params,
        default_sort=DEFAULT_SORT,
        filters=CostFilter(),
    )


async def _settle_actual_cost(
    ctx: ServiceContext, project: Project, *, archiving: bool = False
) -> None:
    """Set the locked project's actual cost to the SUM of its entries and record the
    change. A total below 0 (a correction larger than the costs) or above the largest
    amount is refused: 422 on the amount sent, 409 when archiving an entry leads there."""
    total = await CostRepository(ctx.session).actual_cost(project.id)
    if total < 0:
        code, limit = "actual_cost_negative", "it may not fall below 0"
    elif total > MAX_MONEY:
        code, limit = "actual_cost_too_large", f"it may not exceed {MAX_MONEY}"
    else:
        changes = apply_changes(ctx, project, {"actual_cost": total})
        await save_changes(ctx, project, EventType.PROJECT_UPDATED, changes)
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


async def record_cost(
    ctx: ServiceContext, project_ref: uuid.UUID | str, data: CostCreate
) -> CostEntry:
    project = await project_for_writing(ctx, project_ref, lock=True)
    values = data.model_dump()
    cost = await add_record(ctx, CostEntry, project, EventType.COST_RECORDED, values)
    await _settle_actual_cost(ctx, project)
    return cost


async def _cost_for_writing(
    ctx: ServiceContext, cost_id: uuid.UUID, expected_version: int | None
) -> tuple[CostEntry, Project]:
    """The cost and its project, the project's row lock held and the cost read afresh
    under it (every write of a cost takes that lock first)."""
    cost = await get_cost(ctx, cost_id)
    project = await record_for_writing(ctx, ENTITY, cost, expected_version, lock=True)
    return cost, project


async def update_cost(
    ctx: ServiceContext, cost_id: uuid.UUID, patch: CostUpdate, expected_version: int | None
) -> CostEntry:
    cost, project = await _cost_for_writing(ctx, cost_id, expected_version)
    refuse_archived(ENTITY, cost)
    changes = apply_changes(ctx, cost, patch.changes())
    await save_changes(ctx, cost, EventType.COST_UPDATED, changes)
    if "amount" in changes:
        await _settle_actual_cost(ctx, project)
    return cost


async def archive_cost(
    ctx: ServiceContext, cost_id: uuid.UUID, expected_version: int | None
) -> CostEntry:
    cost, project = await _cost_for_writing(ctx, cost_id, expected_version)
    await archive_project_record(ctx, ENTITY, cost, EventType.COST_ARCHIVED)
    await _settle_actual_cost(ctx, project, archiving=True)
    return cost
