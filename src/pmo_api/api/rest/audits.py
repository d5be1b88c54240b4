"""Audits over REST beside their declared routes (an audit's findings are listed and
raised under it by the declaration's ``Under``): the rules its checklist shows failing
raised as findings in one call, and the findings report.

No ``from __future__ import annotations`` here: FastAPI must see the real classes in
the signatures."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.compliance import NoQuery
from pmo_api.api.rest.deps import Caller, Ctx, request_context
from pmo_api.api.rest.docs import problems
from pmo_api.api.rest.lists import UuidRef, ref_or_422
from pmo_api.audits.declaration import FINDINGS
from pmo_api.audits.raising import RaiseFailedRules, raise_failed_rules
from pmo_api.audits.reports import FindingsReport, findings_report

router = APIRouter(tags=["findings"])


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
