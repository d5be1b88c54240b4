"""A project's lifecycle, declared once: its phase transitions and the gate reviews."""

from __future__ import annotations

import uuid

from pmo_api.core.access import is_staff
from pmo_api.core.schemas import Label, Text
from pmo_api.lifecycle import service
from pmo_api.lifecycle.gates import Unmet
from pmo_api.lifecycle.models import Decision, Direction, GateReview, Transition
from pmo_api.people.declaration import acted_by
from pmo_api.records.declaration import (
    Access,
    Docs,
    Events,
    Field,
    Filter,
    RecordType,
    owned,
)
from pmo_api.resources.fields import Reference
from pmo_api.standards.models import Methodology

METHODOLOGY = Reference(Methodology, "methodology", "Methodology")

TRANSITIONS = RecordType(
    name="transition",
    model=Transition,
    fields=(
        Field("to_phase", Label, description="The phase to move to, one of the methodology's."),
        Field(
            "reason",
            Text | None,
            None,
            "Why; required to go back to an earlier phase.",
        ),
        Field(
            "force",
            bool,
            False,
            "Move even though the gate is not met (admin only; with a justification). The "
            "criteria not met are kept in `unmet`.",
        ),
        Field("justification", Text | None, None, "Why the gate is forced (with force)."),
        owned("from_phase", str | None, "The phase the project left."),
        owned("direction", Direction, "forward or back."),
        owned("forced", bool, "The move went past a gate not met (or skipped a phase)."),
        owned("unmet", list[Unmet], "The gate's criteria not met when it was forced."),
        owned(
            "methodology_id",
            uuid.UUID,
            "The methodology revision the project followed.",
            refers_to=METHODOLOGY,
        ),
        *acted_by("made_by", "made"),
    ),
    filters=(Filter.equal(Transition.to_phase, Label),),
    sorts=("created_at", "to_phase"),
    default_sort="-created_at",
    rules=service.TransitionRules(),
    events=Events(created="made"),
    updatable=False,
    archivable=False,
    create_verb="make",
    docs=Docs(
        summary="A project moved from one phase of its methodology to another.",
        listed="newest first",
        create="Move the project to another phase of its methodology: the next one when "
        "the gate into it is met (else 409 gate_not_met listing every unmet criterion), an "
        "earlier one with a reason, any one by an admin's force with a justification.",
    ),
)

GATE_REVIEWS = RecordType(
    name="gate_review",
    model=GateReview,
    fields=(
        Field("phase", Label, description="The phase whose gate is reviewed (the one entered)."),
        Field("role", Label, description="The gatekeeper's role, as the gate names it."),
        Field(
            "decision",
            Decision,
            description="go opens the gate for this role; hold and recycle keep it shut; a "
            "kill by every role the gate asks for cancels the project.",
        ),
        Field("comment", Text | None, None),
        owned(
            "methodology_id",
            uuid.UUID,
            "The methodology revision the project followed.",
            refers_to=METHODOLOGY,
        ),
        *acted_by("reviewer", "recorded"),
    ),
    filters=(
        Filter.equal(GateReview.phase, Label),
        Filter.one_of(GateReview.decision, Decision),
    ),
    sorts=("created_at", "phase", "role"),
    default_sort="-created_at",
    rules=service.GateReviewRules(),
    events=Events(created="recorded"),
    updatable=False,
    archivable=False,
    create_verb="record",
    access=Access(
        lambda principal, _project: is_staff(principal),
        (
            "gate_review_forbidden",
            "Gate reviews are recorded by pmo and admin keys: a manager does not approve "
            "the gates of their own project.",
        ),
    ),
    docs=Docs(
        summary="A gatekeeper's decision on the gate into a phase: go, hold, recycle or kill.",
        listed="newest first",
        create="Record a gatekeeper's decision (pmo, admin). A project passes a gate when "
        "the latest decision of every role it asks for, since the project's last "
        "transition, is go.",
    ),
)
