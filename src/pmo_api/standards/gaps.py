"""Training gaps (``GET /api/v1/training/gaps``): the people who manage projects that
a rule "manager holds certification X" (``manager_certified``) applies to, and each
certification so required that they lack, hold expired, or hold expiring within a
number of days; with the projects and rules requiring it.

The projects a rule applies to are those live (not archived, neither completed nor
cancelled) with a manager, that its ``applies_when`` selects, as compliance judges them.
Three statements whatever the number of rules, projects and people: the rules in
force, the projects each applies to (one statement of them all), and what their
managers hold of the certifications required."""

from __future__ import annotations

import enum
import uuid
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import case, func, literal, select, true, union_all

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import ErrorDetail, InvalidInput
from pmo_api.db.reads import SessionReads
from pmo_api.people.models import Person
from pmo_api.projects.models import Project, ProjectStatus
from pmo_api.standards.compliance import InForce, rules_in_force
from pmo_api.standards.rules import applies_sql
from pmo_api.training.models import Certification

MAX_DAYS = 3650
DEFAULT_DAYS = 30


class GapState(enum.StrEnum):
    """missing: not held; expired: held, expired; expiring: held, expiring within the
    days asked."""

    MISSING = "missing"
    EXPIRED = "expired"
    EXPIRING = "expiring"


class GapPerson(BaseModel):
    id: uuid.UUID
    name: str


class GapProject(BaseModel):
    """A project requiring the certification of its manager."""

    id: uuid.UUID
    key: str
    name: str


class GapRule(BaseModel):
    """A rule requiring it: its policy's key and its code."""

    policy_key: str
    rule: str


class CertificationGap(BaseModel):
    """A certification a manager's projects require that the manager lacks, or holds
    expired or expiring soon."""

    person: GapPerson
    certification: str
    state: GapState
    expires_on: date | None = Field(
        description="The latest expiry of the ones held (null when missing)."
    )
    projects: list[GapProject] = Field(description="The projects requiring it, by key.")
    rules: list[GapRule] = Field(description="The rules requiring it, by policy and code.")


class TrainingGaps(BaseModel):
    """The certifications managers need: missing, expired or expiring within
    ``within_days`` days of ``as_of``, by person name then certification."""

    as_of: date
    within_days: int
    gaps: list[CertificationGap]


def _check_days(within_days: int) -> None:
    if not 0 <= within_days <= MAX_DAYS:
        raise InvalidInput(
            code="invalid_within_days",
            detail=f"within_days is 0 to {MAX_DAYS}.",
            errors=[ErrorDetail(("query", "within_days"), f"0 to {MAX_DAYS}", "value_error")],
        )


_OPEN = (ProjectStatus.COMPLETED, ProjectStatus.CANCELLED)


def _required(rules: list[InForce]) -> Any:
    """Per rule (its index), the projects it applies to, with their managers."""
    parts = []
    for i, item in enumerate(rules):
        applies = applies_sql(item.rule.applies_when) if item.rule.applies_when else true()
        parts.append(
            select(
                literal(i).label("rule"),
                Project.id,
                Project.key,
                Project.name,
                Project.manager_id,
                Person.name.label("manager_name"),
            )
            .join(Person, Person.id == Project.manager_id)
            .where(Project.archived_at.is_(None), Project.status.not_in(_OPEN), applies)
        )
    return parts[0] if len(parts) == 1 else union_all(*parts)


def _held(people: list[uuid.UUID], names: list[str]) -> Any:
    """Per person and certification name, of the live ones held: whether one never
    expires, and the latest expiry."""
    return (
        select(
            Certification.person_id,
            Certification.name,
            func.sum(case((Certification.expires_on.is_(None), 1), else_=0)).label("lasting"),
            func.max(Certification.expires_on).label("until"),
        )
        .where(
            Certification.person_id.in_(people),
            Certification.name.in_(names),
            Certification.archived_at.is_(None),
        )
        .group_by(Certification.person_id, Certification.name)
    )


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


async def training_gaps(ctx: ServiceContext, within_days: int = DEFAULT_DAYS) -> TrainingGaps:
    """The gaps as of today (see the module)."""
    _check_days(within_days)
    today = ctx.now.date()
    rules = [item for item in await rules_in_force(ctx) if item.check.name == "manager_certified"]
    if not rules:
        return TrainingGaps(as_of=today, within_days=within_days, gaps=[])
    reads = ctx.reads or SessionReads(ctx.session)
    # (person, certification) -> the projects and rules requiring it
    needed: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
    names: dict[uuid.UUID, str] = {}
    for row in await reads.all(_required(rules)):
        item = rules[row["rule"]]
        wanted = item.params.certification
        names[row["manager_id"]] = row["manager_name"]
        entry = needed.setdefault((row["manager_id"], wanted), {"projects": {}, "rules": set()})
        entry["projects"][row["id"]] = GapProject(id=row["id"], key=row["key"], name=row["name"])
        entry["rules"].add((item.policy["key"], item.rule.code))
    if not needed:
        return TrainingGaps(as_of=today, within_days=within_days, gaps=[])
    held: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
    people = sorted({person for person, _ in needed})
    wanted_names = sorted({name for _, name in needed})
    for row in await reads.all(_held(people, wanted_names)):
        held[(row["person_id"], row["name"])] = row
    horizon = today + timedelta(days=within_days)
    gaps = []
    for (person, certification), entry in needed.items():
        found = held.get((person, certification))
        until = None
        if found is None:
            state = GapState.MISSING
        elif found["lasting"]:
            continue
        else:
            until = _day(found["until"])
            assert until is not None
            if until < today:
                state = GapState.EXPIRED
            elif until <= horizon:
                state = GapState.EXPIRING
            else:
                continue
        gaps.append(
            CertificationGap(
                person=GapPerson(id=person, name=names[person]),
                certification=certification,
                state=state,
                expires_on=until,
                projects=sorted(entry["projects"].values(), key=lambda p: p.key),
                rules=[GapRule(policy_key=k, rule=c) for k, c in sorted(entry["rules"])],
            )
        )
    gaps.sort(key=lambda gap: (gap.person.name, gap.certification, str(gap.person.id)))
    return TrainingGaps(as_of=today, within_days=within_days, gaps=gaps)
