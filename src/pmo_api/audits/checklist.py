"""An audit's checklist and the auditor's answers.

The checklist is drawn when the audit starts, from the standards the project follows:
each criterion of its methodology's gates (the phases up to the one after its current
phase), and each policy rule in force that applies to it, with the verdict compliance
gave it at that moment. It is kept with the audit as it was drawn: the standards may
change later, the audit says what was checked."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pmo_api.core.errors import ErrorDetail, InvalidInput
from pmo_api.core.schemas import TEXT_PATTERN, Input, Text
from pmo_api.standards.phases import Phase


class ItemKind(enum.StrEnum):
    """gate: a criterion of a methodology's gate; rule: a policy rule in force."""

    GATE = "gate"
    RULE = "rule"


class ChecklistItem(BaseModel):
    """One thing the auditor checks."""

    item: str = Field(description="Its id in the checklist, what an answer names.")
    kind: ItemKind
    title: str = Field(description="What to check, in words.")
    phase: str | None = Field(default=None, description="A gate's phase.")
    criterion: str | None = Field(
        default=None, description="A gate's criterion: deliverable, approval or rule."
    )
    policy_key: str | None = None
    policy_revision: int | None = None
    rule: str | None = Field(default=None, description="A rule's code.")
    severity: str | None = Field(default=None, description="A rule's severity.")
    outcome: str | None = Field(
        default=None,
        description="A rule's compliance verdict when the audit started: pass or fail.",
    )
    reason: str | None = Field(default=None, description="Why, in words.")
    figures: dict[str, Any] = Field(default_factory=dict, description="What the verdict used.")


class AnswerValue(enum.StrEnum):
    """The auditor's verdict on an item."""

    CONFORMS = "conforms"
    DOES_NOT_CONFORM = "does_not_conform"
    NOT_APPLICABLE = "not_applicable"


ItemId = Annotated[str, StringConstraints(min_length=1, max_length=400, pattern=TEXT_PATTERN)]


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: ItemId = Field(description="The checklist item answered.")
    answer: AnswerValue
    note: Text | None = None


class Answer(AnswerIn):
    """An answer as the audit keeps it: the latest for its item."""

    answered_at: str = Field(description="When (ISO 8601).")
    answered_by: str = Field(description="The API key that answered it.")


class Answers(Input):
    answers: Annotated[list[AnswerIn], Field(min_length=1, max_length=500)] = Field(
        description="Answers to checklist items; an item answered again takes the new one."
    )


class Completion(Input):
    summary: Text | None = Field(
        default=None, description="The auditor's conclusion; kept when not sent."
    )


def gate_items(phases: Sequence[Mapping[str, Any]], current: str | None) -> list[dict[str, Any]]:
    """Each criterion of the gates into the phases up to the one after ``current`` (all
    of them when the project's phase is not one of the methodology's)."""
    parsed = [Phase.model_validate(p) for p in phases]
    names = [p.name for p in parsed]
    upto = names.index(current) + 2 if current in names else len(parsed)
    items: list[dict[str, Any]] = []
    for phase in parsed[:upto]:
        gate = phase.gate
        for criterion, names_, what in (
            ("deliverable", gate.deliverables, "The deliverable {} is accepted"),
            ("approval", gate.approver_roles, "The {} approved the gate"),
            ("rule", gate.rules, "The rule {} passes"),
        ):
            for name in names_:
                items.append(
                    {
                        "item": f"gate/{phase.name}/{criterion}/{name}",
                        "kind": ItemKind.GATE,
                        "title": f"{what.format(name)} (gate into {phase.name})",
                        "phase": phase.name,
                        "criterion": criterion,
                    }
                )
    return items


def rule_items(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each rule of a compliance report that applies to the project, with its verdict."""
    return [
        {
            "item": f"rule/{r['policy_key']}/{r['rule']}",
            "kind": ItemKind.RULE,
            "title": r["title"],
            "policy_key": r["policy_key"],
            "policy_revision": r["policy_revision"],
            "rule": r["rule"],
            "severity": str(r["severity"]),
            "outcome": str(r["outcome"]),
            "reason": r["reason"],
            "figures": r["figures"],
        }
        for r in results
        if str(r["outcome"]) != "not_applicable"
    ]


def merged(
    checklist: Sequence[Mapping[str, Any]],
    kept: Sequence[Mapping[str, Any]],
    sent: Sequence[AnswerIn],
    at: str,
    by: str,
) -> list[dict[str, Any]]:
    """The answers kept with those sent (422 naming each item not in the checklist),
    in the checklist's order."""
    items = [i["item"] for i in checklist]
    known = set(items)
    errors = [
        ErrorDetail(("body", "answers", i, "item"), "not an item of the checklist", "value_error")
        for i, answer in enumerate(sent)
        if answer.item not in known
    ]
    if errors:
        raise InvalidInput(
            code="unknown_checklist_item",
            detail="Answers name items the audit's checklist does not have.",
            errors=errors,
        )
    by_item = {a["item"]: dict(a) for a in kept}
    for answer in sent:
        by_item[answer.item] = {
            **answer.model_dump(mode="json"),
            "answered_at": at,
            "answered_by": by,
        }
    return [by_item[i] for i in items if i in by_item]


def unanswered(
    checklist: Sequence[Mapping[str, Any]], answers: Sequence[Mapping[str, Any]]
) -> list[str]:
    done = {a["item"] for a in answers}
    return [i["item"] for i in checklist if i["item"] not in done]


def score(answers: Sequence[Mapping[str, Any]]) -> float | None:
    """Items that conform / items that apply, in percent (null when none applies)."""
    conforms = sum(1 for a in answers if a["answer"] == AnswerValue.CONFORMS)
    applies = conforms + sum(1 for a in answers if a["answer"] == AnswerValue.DOES_NOT_CONFORM)
    return round(100 * conforms / applies, 1) if applies else None
