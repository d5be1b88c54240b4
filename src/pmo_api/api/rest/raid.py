"""The REST routes of a project's RAID log: risks, issues, change requests, and the
decisions on a change request. No ``from __future__ import annotations``: FastAPI must
see the real classes in the routes' signatures."""

from fastapi import Request
from starlette.responses import Response

from pmo_api.api.rest.children import ChildResource, child_routers, record_action
from pmo_api.api.rest.crud import ExpectedVersion
from pmo_api.api.rest.deps import Ctx
from pmo_api.api.rest.docs import problems
from pmo_api.api.rest.idempotency import IdempotencyKey
from pmo_api.api.rest.lists import UuidRef, uuid_or_422
from pmo_api.raid import service as raid
from pmo_api.raid.schemas import (
    ChangeCreate,
    ChangeDecision,
    ChangeFilter,
    ChangeRead,
    ChangeUpdate,
    IssueCreate,
    IssueFilter,
    IssueRead,
    IssueUpdate,
    RiskCreate,
    RiskFilter,
    RiskRead,
    RiskUpdate,
)

risks_nested, risks_own = child_routers(
    ChildResource(
        path="/risks",
        noun="risk",
        read=RiskRead,
        create=RiskCreate,
        filter=RiskFilter,
        list_=raid.list_risks,
        get=raid.get_risk,
        create_=raid.raise_risk,
        update=RiskUpdate,
        update_=raid.update_risk,
        archive=raid.archive_risk,
    ),
    "risks",
)

issues_nested, issues_own = child_routers(
    ChildResource(
        path="/issues",
        noun="issue",
        read=IssueRead,
        create=IssueCreate,
        filter=IssueFilter,
        list_=raid.list_issues,
        get=raid.get_issue,
        create_=raid.raise_issue,
        update=IssueUpdate,
        update_=raid.update_issue,
        archive=raid.archive_issue,
    ),
    "issues",
)

changes_nested, changes_own = child_routers(
    ChildResource(
        path="/changes",
        noun="change request",
        read=ChangeRead,
        create=ChangeCreate,
        filter=ChangeFilter,
        list_=raid.list_changes,
        get=raid.get_change,
        create_=raid.propose_change,
        update=ChangeUpdate,
        update_=raid.update_change,
        archive=raid.archive_change,
    ),
    "change requests",
)


@changes_own.post(
    "/{id}/approve",
    response_model=ChangeRead,
    responses=problems(403, 404, 409, 412),
    summary="Approve a change request and apply it to the project",
    name="approve_change_request",
)
async def approve(
    request: Request,
    ctx: Ctx,
    id: UuidRef,
    version: ExpectedVersion,
    body: ChangeDecision | None = None,
    key: IdempotencyKey = None,
) -> Response:
    """pmo and admin only. The project's planned budget moves by `budget_impact` and its
    planned end by `schedule_impact_days`; the planned start stays. Refused, nothing
    written: 422 `planned_budget_negative` / `planned_budget_too_large` when the budget
    would leave 0 to 999,999,999,999.99, 422 `dates_out_of_order` /
    `planned_end_out_of_range` when the planned end would fall before the planned start
    or outside the calendar, 409 `no_planned_end` when `schedule_impact_days` is not 0
    and the project has no planned end (set one first)."""

    note = body.note if body is not None else None
    return await record_action(
        request,
        ctx,
        key,
        ChangeRead,
        lambda: raid.approve_change(ctx, uuid_or_422(id), note, version),
    )


@changes_own.post(
    "/{id}/reject",
    response_model=ChangeRead,
    responses=problems(403, 404, 409, 412),
    summary="Reject a change request",
    name="reject_change_request",
)
async def reject(
    request: Request,
    ctx: Ctx,
    id: UuidRef,
    version: ExpectedVersion,
    body: ChangeDecision | None = None,
    key: IdempotencyKey = None,
) -> Response:
    """pmo and admin only; the project is left as it is."""

    note = body.note if body is not None else None
    return await record_action(
        request,
        ctx,
        key,
        ChangeRead,
        lambda: raid.reject_change(ctx, uuid_or_422(id), note, version),
    )


routers = (risks_nested, risks_own, issues_nested, issues_own, changes_nested, changes_own)
