"""Audits over REST beside their declared routes: an audit's findings (listed, raised,
and raised from the rules its checklist shows failing) and the findings report.

No ``from __future__ import annotations`` here: FastAPI must see the real classes in
the signatures."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, create_model
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.crud import list_query_model
from pmo_api.api.rest.deps import Caller, Ctx, request_context
from pmo_api.api.rest.docs import list_problems, problems
from pmo_api.api.rest.idempotency import IdempotencyKey, idempotent
from pmo_api.api.rest.lists import UuidRef, ref_or_422, split
from pmo_api.audits.declaration import AUDITS, FINDINGS
from pmo_api.audits.raising import RaiseFailedRules, raise_failed_rules
from pmo_api.audits.reports import FindingsReport, findings_report
from pmo_api.resources import service as resources

router = APIRouter(tags=["findings"])

AuditFindingsQuery = list_query_model(FINDINGS.filter)

AuditFindingCreate: Any = create_model(  # type: ignore[call-overload]
    "AuditFindingCreate",
    __config__=FINDINGS.create.model_config,
    __doc__="A finding raised in the audit of the path.",
    **{
        name: (info.annotation, info)
        for name, info in FINDINGS.create.model_fields.items()
        if name != "audit_id"
    },
)


class NoQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RaisedFindings(BaseModel):
    data: list[FINDINGS.read]  # type: ignore[name-defined]


@router.get(
    "/reports/findings",
    response_model=FindingsReport,
    responses=problems(304),
    summary="Open findings by severity and age, per portfolio",
    name="findings_report",
)
async def report(request: Request, _: Caller, query: Annotated[NoQuery, Query()]) -> Response:
    """The open findings (open or in remediation) of live projects, counted by severity
    and by days since they were raised (0-30, 31-90, 91-180, over 180), with those past
    their due date, for the organisation and for each portfolio."""
    async with request_context(request) as ctx:
        found = await findings_report(ctx)
    return present.document(request, found)


@router.get(
    "/audits/{id}/findings",
    response_model=present.ListOf[FINDINGS.list_item],  # type: ignore[name-defined]
    responses=list_problems(404),
    summary="List an audit's findings",
    name="list_audit_findings",
)
async def list_audit_findings(
    request: Request,
    ctx: Ctx,
    id: UuidRef,
    query: Annotated[AuditFindingsQuery, Query()],  # type: ignore[valid-type]
) -> Response:
    audit = await resources.read(ctx, AUDITS, ref_or_422(id, keyed=False))
    filters, params, fmt = split(query, FINDINGS.filter)
    filters = filters.model_copy(update={"audit_id": audit["id"]})
    for_json = present.printed_plain(request, FINDINGS.list_item, fmt)
    found = await resources.read_list(ctx, FINDINGS, filters, params, for_json=for_json)
    return present.page(request, FINDINGS.list_item, found, fmt)


@router.post(
    "/audits/{id}/findings",
    status_code=201,
    response_model=FINDINGS.read,
    responses=problems(404, 409),
    summary="Raise a finding in an audit",
    name="create_audit_finding",
)
async def create_audit_finding(
    request: Request,
    ctx: Ctx,
    id: UuidRef,
    body: AuditFindingCreate,
    key: IdempotencyKey = None,
) -> Response:
    """A finding in an audit in progress (pmo, admin): 409 `audit_not_started`,
    `audit_completed`."""

    async def produce() -> Response:
        audit: Any = await resources.get(ctx, AUDITS, ref_or_422(id, keyed=False))
        data = FINDINGS.create.model_validate({**body.model_dump(), "audit_id": audit.id})
        made = await resources.create(ctx, FINDINGS, data)
        return present.created(
            request, FINDINGS.read, made, f"/api/v1/{FINDINGS.plural}/{made['id']}"
        )

    return await idempotent(ctx, request, key, produce)


@router.post(
    "/audits/{id}/findings/from-compliance",
    response_model=RaisedFindings,
    responses={201: {"description": "Findings raised."}, **problems(404, 409)},
    summary="Raise the failing rules as findings",
    name="raise_audit_compliance_findings",
)
async def raise_compliance_findings(
    request: Request, ctx: Ctx, id: UuidRef, body: RaiseFailedRules
) -> Response:
    """A finding for each rule the audit's checklist shows failing (its compliance when
    the audit started) that has none in this audit yet, each with the rule's severity
    and the reason it failed (pmo, admin). 201 with the findings raised; 200 with none
    when every failing rule has one already."""
    made = await raise_failed_rules(ctx, ref_or_422(id, keyed=False), body)
    content = b'{"data":[' + b",".join(present.dump_row(FINDINGS.read, m) for m in made) + b"]}"
    return Response(content, status_code=201 if made else 200, media_type=present.JSON)
