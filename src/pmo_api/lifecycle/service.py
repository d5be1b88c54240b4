"""What transitions and gate reviews do beyond being recorded: a transition moves the
project's phase (forward only through the gate, back with a reason, anywhere by an
admin's force with a justification); a ``kill`` by every role the gate asks for cancels
the project. Both run under the project's row lock, so two moves cannot race."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pmo_api.core.context import Role, ServiceContext
from pmo_api.core.errors import Conflict, ErrorDetail, Forbidden, InvalidInput
from pmo_api.db.records import apply_changes
from pmo_api.events.service import save_changes
from pmo_api.lifecycle import gates
from pmo_api.lifecycle.models import Decision, Direction, GateReview, Transition
from pmo_api.people.declaration import acting
from pmo_api.projects.declaration import PROJECTS
from pmo_api.projects.models import Project, ProjectStatus
from pmo_api.projects.service import phase_index
from pmo_api.records.declaration import RecordRules
from pmo_api.standards.models import Methodology
from pmo_api.standards.phases import gate_of, phase_names

CLOSED = (ProjectStatus.COMPLETED, ProjectStatus.CANCELLED)


async def followed(ctx: ServiceContext, project: Project) -> Methodology:
    """The methodology revision the project follows (409 ``no_methodology``)."""
    if project.methodology_id is None:
        raise Conflict(
            code="no_methodology",
            detail=f"{project.key} follows no methodology: set its methodology_id to a "
            "published methodology revision first.",
        )
    found = await ctx.session.scalar(
        select(Methodology).where(Methodology.id == project.methodology_id)
    )
    assert found is not None  # a foreign key
    return found


def _required(field: str, why: str) -> InvalidInput:
    return InvalidInput(
        code=f"{field}_required",
        detail=f"{field}: {why}",
        errors=[ErrorDetail(("body", field), why, "missing")],
    )


class TransitionRules(RecordRules[Transition]):
    lock_project = True

    async def creating(self, ctx: ServiceContext, project: Project, values: dict[str, Any]) -> None:
        methodology = await followed(ctx, project)
        if project.status in CLOSED:
            raise Conflict(
                code="project_closed",
                detail=f"{project.key} is {project.status.value}: it changes phase no more.",
            )
        to_phase = values["to_phase"]
        target = phase_index(methodology, to_phase, "to_phase")
        names = phase_names(methodology.phases)
        current = names.index(project.phase) if project.phase in names else -1
        if target == current:
            raise Conflict(
                code="already_in_phase", detail=f"{project.key} is already in {to_phase}."
            )
        if values["force"]:
            if ctx.principal.role != Role.ADMIN:
                raise Forbidden(
                    code="force_forbidden",
                    detail="Only admin keys force a transition past its gate.",
                )
            if not (values.get("justification") or "").strip():
                raise _required("justification", "a forced transition is justified in writing")
        elif values.get("justification"):
            raise InvalidInput(
                code="justification_without_force",
                detail="justification: only a forced transition takes one (force: true).",
                errors=[ErrorDetail(("body", "justification"), "only with force", "value_error")],
            )
        unmet: list[gates.Unmet] = []
        if target < current:
            if not (values.get("reason") or "").strip():
                raise _required("reason", "going back a phase takes a reason")
            direction = Direction.BACK
        else:
            if target > current + 1 and not values["force"]:
                raise Conflict(
                    code="phase_not_next",
                    detail=f"{project.key} moves one phase at a time: the next after "
                    f"{project.phase} is {names[current + 1]}.",
                    extra={"next_phase": names[current + 1]},
                )
            direction = Direction.FORWARD
            gate = gate_of(methodology.phases, to_phase)
            unmet = await gates.unmet(ctx, project, to_phase, gate)
            if unmet and not values["force"]:
                listed = "; ".join(
                    f"{u.criterion.value} {u.name}: {u.reason.rstrip('.')}" for u in unmet
                )
                raise Conflict(
                    code="gate_not_met",
                    detail=f"The gate into {to_phase} is not met: {listed}.",
                    extra={"unmet": [u.model_dump(mode="json") for u in unmet]},
                )
        values.update(
            methodology_id=methodology.id,
            from_phase=project.phase,
            direction=direction,
            forced=bool(values["force"]) and (bool(unmet) or target > current + 1),
            unmet=[u.model_dump(mode="json") for u in unmet],
            **acting(ctx, "made_by"),
        )

    async def created(self, ctx: ServiceContext, project: Project, record: Transition) -> None:
        changes = apply_changes(ctx, project, {"phase": record.to_phase})
        await save_changes(ctx, project, PROJECTS.event("phase_changed"), changes)


class GateReviewRules(RecordRules[GateReview]):
    lock_project = True

    async def creating(self, ctx: ServiceContext, project: Project, values: dict[str, Any]) -> None:
        methodology = await followed(ctx, project)
        phase_index(methodology, values["phase"])
        values.update(
            methodology_id=methodology.id,
            **acting(ctx, "reviewer"),
        )

    async def created(self, ctx: ServiceContext, project: Project, record: GateReview) -> None:
        """A kill by every role the gate asks for (or, when it asks for none, any kill)
        cancels the project."""
        if record.decision != Decision.KILL or project.status in CLOSED:
            return
        methodology = await followed(ctx, project)
        gate = gate_of(methodology.phases, record.phase)
        since = await gates.since_last_transition(ctx, project.id)
        latest = await gates.latest_decisions(ctx, project.id, record.phase, since)
        killed = {role for role, review in latest.items() if review.decision == Decision.KILL}
        if set(gate.approver_roles) <= killed:
            changes = apply_changes(ctx, project, {"status": ProjectStatus.CANCELLED})
            await save_changes(ctx, project, PROJECTS.updated_event, changes)
