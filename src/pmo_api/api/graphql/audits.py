"""Audits over GraphQL beside their declared types: the findings report and the
failing rules of an audit raised as findings in one call, the same services and
shapes as REST."""

# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import strawberry
from pydantic import BaseModel

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.declared import document_type, made, result
from pmo_api.api.graphql.errors import CreateErrors, parse_model
from pmo_api.api.graphql.relay import raw_uuid
from pmo_api.api.graphql.resources import TYPES
from pmo_api.audits.raising import RaiseFailedRules, raise_failed_rules
from pmo_api.audits.reports import FindingsReport, findings_report


class _AuditRef(BaseModel):
    audit_id: uuid.UUID


FindingsReportType: Any = document_type(FindingsReport)
FINDING = TYPES["finding"]

RaisedFindingsPayload: Any = strawberry.type(
    made(
        "RaisedFindingsPayload",
        {"__annotations__": {"findings": list[FINDING.node]}},  # type: ignore[name-defined]
        module=__name__,
    ),
    description="The findings raised (none: each failing rule has one in the audit already).",
)
RaiseComplianceFindingsResult: Any = result(
    "RaiseComplianceFindingsResult", RaisedFindingsPayload, CreateErrors
)


@strawberry.type
class AuditsQuery:
    @strawberry.field(
        description="The open findings (open or in remediation) of live projects, by "
        "severity and by days since they were raised, for the organisation and each portfolio."
    )
    async def findings_report(self, info: GqlInfo) -> FindingsReportType:
        return await info.context.fetch(findings_report, FindingsReport.model_validate)


@strawberry.type
class AuditsMutation:
    @strawberry.mutation(
        description="A finding for each rule the audit's checklist shows failing that has "
        "none in the audit yet, with the rule's severity and the reason (pmo, admin)."
    )
    async def raise_compliance_findings(
        self,
        info: GqlInfo,
        audit_id: strawberry.ID,
        owner_id: strawberry.ID | None = None,
        due_on: date | None = None,
    ) -> RaiseComplianceFindingsResult:
        audit = parse_model(_AuditRef, {"audit_id": raw_uuid(audit_id, "Audit")}, "query")
        body = parse_model(
            RaiseFailedRules,
            {
                "owner_id": None if owner_id is None else raw_uuid(owner_id, "Person"),
                "due_on": due_on,
            },
            "query",
        )
        return await info.context.change(
            lambda ctx: raise_failed_rules(ctx, audit.audit_id, body),
            lambda made: RaisedFindingsPayload(findings=[FINDING.present(m) for m in made]),
        )
