"""Whether a project meets the gate into a phase: each criterion the gate names that
does not hold, named, with why (``Unmet``).

Three statements whatever the gate's size: the project's deliverables by name, the
latest gate review of each role since the project's last transition, and the policy
rules in force judged on the project (``standards.compliance.judge``)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from pmo_api.core.context import ServiceContext
from pmo_api.lifecycle.models import Decision, GateReview, Transition
from pmo_api.projects.models import Project
from pmo_api.schedule.models import Deliverable, DeliverableStatus
from pmo_api.standards.checks import Outcome, plain
from pmo_api.standards.compliance import judge
from pmo_api.standards.phases import Gate


class Criterion(enum.StrEnum):
    DELIVERABLE = "deliverable"
    APPROVAL = "approval"
    RULE = "rule"


class Unmet(BaseModel):
    """A criterion of a gate that does not hold."""

    criterion: Criterion = Field(description="deliverable, approval or rule.")
    name: str = Field(description="The deliverable's name, the approver's role or the rule's code.")
    reason: str = Field(description="Why it does not hold, in words.")
    figures: dict[str, Any] = Field(
        default_factory=dict, description="What was found (a status, a decision, a rule's figures)."
    )


async def since_last_transition(ctx: ServiceContext, project_id: Any) -> datetime | None:
    """When the project last changed phase (None: never): gate reviews count from then."""
    found: datetime | None = await ctx.session.scalar(
        select(func.max(Transition.created_at)).where(Transition.project_id == project_id)
    )
    return found


async def latest_decisions(
    ctx: ServiceContext, project_id: Any, phase: str, since: datetime | None
) -> dict[str, GateReview]:
    """Each role's latest review of the gate into ``phase`` since ``since``."""
    query = select(GateReview).where(GateReview.project_id == project_id, GateReview.phase == phase)
    if since is not None:
        query = query.where(GateReview.created_at >= since)
    latest: dict[str, GateReview] = {}
    for review in (await ctx.session.scalars(query.order_by(GateReview.created_at))).all():
        latest[review.role] = review
    return latest


async def unmet(ctx: ServiceContext, project: Project, phase: str, gate: Gate) -> list[Unmet]:
    """Every criterion of ``gate`` (the gate into ``phase``) that ``project`` does not meet."""
    found: list[Unmet] = []
    if gate.deliverables:
        found += await _deliverables(ctx, project, gate.deliverables)
    if gate.approver_roles:
        since = await since_last_transition(ctx, project.id)
        decisions = await latest_decisions(ctx, project.id, phase, since)
        found += _approvals(gate.approver_roles, decisions)
    if gate.rules:
        found += await _rules(ctx, project, gate.rules)
    return found


async def _deliverables(ctx: ServiceContext, project: Project, names: Sequence[str]) -> list[Unmet]:
    rows = (
        await ctx.session.execute(
            select(Deliverable.name, Deliverable.status).where(
                Deliverable.project_id == project.id, Deliverable.archived_at.is_(None)
            )
        )
    ).all()
    statuses: dict[str, list[str]] = {}
    for name, status in rows:
        statuses.setdefault(name.casefold(), []).append(str(status))
    out = []
    for name in names:
        held = statuses.get(name.casefold())
        if held is None:
            out.append(
                Unmet(
                    criterion=Criterion.DELIVERABLE,
                    name=name,
                    reason=f"The project has no deliverable named {name!r}.",
                )
            )
        elif DeliverableStatus.ACCEPTED.value not in held:
            out.append(
                Unmet(
                    criterion=Criterion.DELIVERABLE,
                    name=name,
                    reason=f"The deliverable {name!r} is {', '.join(held)}, not accepted.",
                    figures={"status": held[0] if len(held) == 1 else held},
                )
            )
    return out


def _approvals(roles: Sequence[str], decisions: dict[str, GateReview]) -> list[Unmet]:
    out = []
    for role in roles:
        review = decisions.get(role)
        if review is None:
            out.append(
                Unmet(
                    criterion=Criterion.APPROVAL,
                    name=role,
                    reason=f"No gate review by the role {role!r} yet.",
                )
            )
        elif review.decision != Decision.GO:
            said = f": {review.comment}" if review.comment else ""
            out.append(
                Unmet(
                    criterion=Criterion.APPROVAL,
                    name=role,
                    reason=f"The role {role!r} decided {review.decision.value}{said}.",
                    figures={"decision": review.decision.value, "review_id": str(review.id)},
                )
            )
    return out


async def _rules(ctx: ServiceContext, project: Project, codes: Sequence[str]) -> list[Unmet]:
    row = {column.key: getattr(project, column.key) for column in Project.__table__.columns}
    judged = (await judge(ctx, Project.id == project.id, [row])).get(project.id, [])
    verdicts = {item.rule.code: (item, verdict) for item, verdict in judged}
    out = []
    for code in codes:
        if code not in verdicts:
            out.append(
                Unmet(
                    criterion=Criterion.RULE,
                    name=code,
                    reason=f"No policy in force has a rule {code}.",
                )
            )
            continue
        item, verdict = verdicts[code]
        if verdict.outcome == Outcome.FAIL:
            out.append(
                Unmet(
                    criterion=Criterion.RULE,
                    name=code,
                    reason=f"{item.policy['key']} {code} fails: {verdict.reason}",
                    figures={"policy_key": item.policy["key"], **plain(verdict.figures)},
                )
            )
    return out
