"""A methodology's phases and their gates.

A methodology is an ordered list of phases; a project starts in the first. Each phase
has a gate: what must hold for a project to **enter** that phase (as in stage-gate,
where gate 2 opens stage 2), so the first phase's gate is never asked:

- ``deliverables``: deliverables of the project, named, that must be accepted;
- ``approver_roles``: roles whose latest gate review of this gate must be ``go``;
- ``rules``: codes of policy rules in force that must not fail on the project.

``lifecycle`` moves projects through them (``POST /projects/{id}/transitions``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from pmo_api.core.errors import ErrorDetail, InvalidInput
from pmo_api.core.schemas import Label, Name, Text
from pmo_api.standards.rules import RuleCode


class Gate(BaseModel):
    """What a project must show to enter a phase."""

    model_config = ConfigDict(extra="forbid")

    deliverables: Annotated[list[Name], Field(max_length=50)] = Field(
        default_factory=list,
        description="Names of the project's deliverables that must be accepted.",
    )
    approver_roles: Annotated[list[Label], Field(max_length=20)] = Field(
        default_factory=list,
        description="Roles whose latest gate review of this gate must be go "
        "(e.g. sponsor, pmo, steering_committee).",
    )
    rules: Annotated[list[RuleCode], Field(max_length=50)] = Field(
        default_factory=list,
        description="Codes of policy rules in force that must not fail on the project.",
    )


class Phase(BaseModel):
    """One phase of a methodology; a project's ``phase`` holds its name."""

    model_config = ConfigDict(extra="forbid")

    name: Label = Field(description="The phase's name, unique in the methodology.")
    description: Text | None = None
    gate: Gate = Field(
        default_factory=Gate, description="What a project must show to enter this phase."
    )


Phases = Annotated[list[Phase], Field(min_length=1, max_length=30)]


def check_phases(
    phases: Sequence[Mapping[str, Any]], where: tuple[Any, ...] = ("body", "phases")
) -> None:
    """422 ``duplicate_phase`` naming each phase whose name an earlier one has."""
    seen: set[str] = set()
    errors = []
    for i, phase in enumerate(phases):
        if phase["name"] in seen:
            errors.append(
                ErrorDetail(
                    (*where, i, "name"), f"the phase {phase['name']} is named twice", "value_error"
                )
            )
        seen.add(phase["name"])
    if errors:
        raise InvalidInput(
            code="duplicate_phase",
            detail="Each phase of a methodology has a name of its own.",
            errors=errors,
        )


def phase_names(phases: Sequence[Mapping[str, Any]]) -> list[str]:
    return [phase["name"] for phase in phases]


def gate_of(phases: Sequence[Mapping[str, Any]], name: str) -> Gate:
    """The gate of the phase ``name`` (one of ``phases``)."""
    found = next(phase for phase in phases if phase["name"] == name)
    return Gate.model_validate(found.get("gate") or {})
