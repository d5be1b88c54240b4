"""Findings raised from what compliance found: each rule the audit's checklist shows
failing, raised once per audit, in one call."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field
from sqlalchemy import select

from pmo_api.audits import service
from pmo_api.audits.checklist import ItemKind
from pmo_api.audits.declaration import AUDITS, FINDINGS
from pmo_api.audits.models import Finding
from pmo_api.core.context import ServiceContext
from pmo_api.core.schemas import Day, Input
from pmo_api.resources import service as resources


class RaiseFailedRules(Input):
    owner_id: uuid.UUID | None = Field(default=None, description="Who fixes them.")
    due_on: Day | None = Field(default=None, description="When they are to be fixed by.")


async def raise_failed_rules(
    ctx: ServiceContext, ref: uuid.UUID | str, body: RaiseFailedRules
) -> list[Any]:
    """A finding for each rule the audit's checklist shows failing (its compliance when
    the audit started) that has none in this audit yet: its severity the rule's, its
    description the rule's title and the reason it failed. The findings made, in the
    checklist's order (none: each failing rule has one already)."""
    audit: Any = await resources.get(ctx, AUDITS, ref)
    service.refuse_unless_auditor(ctx)
    await service.audit_for_findings(ctx, audit.id)
    raised = {
        (row.policy_key, row.rule_code)
        for row in await ctx.session.execute(
            select(Finding.policy_key, Finding.rule_code).where(
                Finding.audit_id == audit.id, Finding.archived_at.is_(None)
            )
        )
    }
    made = []
    for item in audit.checklist:
        if item["kind"] != ItemKind.RULE or item.get("outcome") != "fail":
            continue
        if (item["policy_key"], item["rule"]) in raised:
            continue
        data = FINDINGS.create.model_validate(
            {
                "audit_id": audit.id,
                "severity": item["severity"],
                "policy_key": item["policy_key"],
                "rule_code": item["rule"],
                "description": f"{item['title']}: {item['reason']}",
                "owner_id": body.owner_id,
                "due_on": body.due_on,
            }
        )
        made.append(await resources.create(ctx, FINDINGS, data))
    return made
