"""A small, realistic demo organisation, created through the service layer.

Everything goes through the same service functions as the API, so the audit trail
records the seeding like any other change. The organisation is deterministic (one
seeded random generator; dates laid out relative to the current month so the demo
never looks stale) and idempotent: people are matched by email, portfolios and
projects by key, and whatever already exists is left alone.
Later capabilities extend it with a step of their own (see ``STEPS``).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pmo_api.audits.declaration import AUDITS
from pmo_api.audits.models import Audit
from pmo_api.audits.raising import RaiseFailedRules, raise_failed_rules
from pmo_api.core.context import SYSTEM, ServiceContext
from pmo_api.core.errors import NotFound
from pmo_api.db.transaction import unit_of_work
from pmo_api.lessons.declaration import LESSONS
from pmo_api.lessons.models import Lesson
from pmo_api.people import declaration as people
from pmo_api.people.models import Person
from pmo_api.portfolios import declaration as portfolios
from pmo_api.projects.declaration import PROJECTS
from pmo_api.projects.models import Health, Project, ProjectStatus
from pmo_api.resources import service as resources
from pmo_api.resources.declaration import ResourceType
from pmo_api.standards.declaration import METHODOLOGIES, POLICIES, TEMPLATES
from pmo_api.standards.models import Methodology, StandardStatus
from pmo_api.training.declaration import CERTIFICATIONS, COURSES, ENROLLMENTS
from pmo_api.training.models import Certification, Course, Enrollment

SEED = 20261125
EMAIL_DOMAIN = "northwind.example"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoPerson:
    name: str
    title: str
    skills: tuple[tuple[str, int], ...]
    capacity: float = 40.0

    @property
    def email(self) -> str:
        return self.name.lower().replace(" ", ".") + "@" + EMAIL_DOMAIN


@dataclass(frozen=True)
class DemoPortfolio:
    key: str
    name: str
    description: str
    owner: str
    budget_cap: int
    parent: str | None = None


# (portfolio key, project key, name)
DemoProjectName = tuple[str, str, str]

PEOPLE = (
    DemoPerson("Amelia Hart", "Chief Operating Officer", (("strategy", 5), ("operations", 5))),
    DemoPerson("Daniel Okafor", "Chief Technology Officer", (("architecture", 5), ("strategy", 4))),
    DemoPerson("Priya Raman", "Chief Financial Officer", (("finance", 5), ("governance", 4))),
    DemoPerson("Marcus Lindqvist", "Chief Marketing Officer", (("marketing", 5), ("strategy", 4))),
    DemoPerson("Sofia Marques", "Director, PMO", (("portfolio management", 5), ("governance", 5))),
    DemoPerson(
        "Ethan Brooks",
        "Senior Program Manager",
        (("program management", 5), ("stakeholder management", 4)),
    ),
    DemoPerson("Hannah Schmidt", "Program Manager", (("program management", 4), ("budgeting", 4))),
    DemoPerson("Kenji Watanabe", "Senior Project Manager", (("agile", 5), ("scrum", 5))),
    DemoPerson("Laura Chen", "Project Manager", (("waterfall", 4), ("risk management", 4))),
    DemoPerson("Omar Haddad", "Project Manager", (("vendor management", 4), ("prince2", 3))),
    DemoPerson("Grace Mwangi", "Agile Delivery Lead", (("agile", 5), ("kanban", 4))),
    DemoPerson("Lucas Moreau", "Project Manager", (("hybrid delivery", 4), ("change", 3)), 32.0),
    DemoPerson(
        "Isabel Duarte", "Business Analyst", (("requirements", 5), ("process modelling", 4))
    ),
    DemoPerson("Noah Fischer", "Solution Architect", (("cloud", 5), ("integration", 4))),
    DemoPerson("Zara Ahmed", "Data Engineer", (("sql", 5), ("python", 4), ("data modelling", 4))),
)
SPONSORS = ("Amelia Hart", "Daniel Okafor", "Priya Raman", "Marcus Lindqvist")
MANAGERS = (
    "Ethan Brooks",
    "Hannah Schmidt",
    "Kenji Watanabe",
    "Laura Chen",
    "Omar Haddad",
    "Grace Mwangi",
    "Lucas Moreau",
)

# key | parent | budget cap (millions) | owner (first name) | name | description.
# Parents come before their programs.
PORTFOLIO_TABLE = """
DIGITAL    | -       | 14.0 | Daniel  | Digital Transformation      | Platforms, data, workplace.
OPS        | -       | 10.0 | Amelia  | Operational Excellence      | Leaner operations.
GROWTH     | -       | 11.0 | Marcus  | Customer & Growth           | Win and keep customers.
DIG-CLOUD  | DIGITAL |  5.0 | Ethan   | Cloud Migration Program     | Exit the data centres.
DIG-DATA   | DIGITAL |  4.0 | Hannah  | Data & Analytics Program    | One trusted view of sales.
DIG-WORK   | DIGITAL |  3.0 | Sofia   | Digital Workplace Program   | Tools people like to use.
OPS-SUPPLY | OPS     |  4.5 | Ethan   | Supply Chain Modernisation  | From forecast to doorstep.
OPS-FIN    | OPS     |  3.5 | Priya   | Finance Systems Renewal     | A faster month-end close.
OPS-HSE    | OPS     |  1.5 | Sofia   | Health, Safety & Compliance | Safe sites, clean audits.
GRO-CX     | GROWTH  |  5.0 | Hannah  | Customer Experience Program | One conversation per client.
GRO-MOBILE | GROWTH  |  4.5 | Ethan   | Mobile & E-commerce Program | Shop anywhere, pay in a tap.
"""


def _portfolio(line: str) -> DemoPortfolio:
    key, parent, millions, owner, name, description = (c.strip() for c in line.split("|"))
    owner_name = next(p.name for p in PEOPLE if p.name.split()[0] == owner)
    cap = int(Decimal(millions) * 1_000_000)
    parent_key = None if parent == "-" else parent
    return DemoPortfolio(key, name, description, owner_name, cap, parent_key)


PORTFOLIOS = tuple(_portfolio(line) for line in PORTFOLIO_TABLE.strip().splitlines())

PROJECT_NAMES: tuple[DemoProjectName, ...] = (
    ("DIG-CLOUD", "CLD-101", "Data Centre Exit Wave 1"),
    ("DIG-CLOUD", "CLD-102", "Data Centre Exit Wave 2"),
    ("DIG-CLOUD", "CLD-103", "Kubernetes Platform Build"),
    ("DIG-CLOUD", "CLD-104", "Cloud Cost Governance"),
    ("DIG-DATA", "DAT-201", "Enterprise Data Warehouse Replacement"),
    ("DIG-DATA", "DAT-202", "Customer 360 Data Hub"),
    ("DIG-DATA", "DAT-203", "Self-Service BI Rollout"),
    ("DIG-DATA", "DAT-204", "Data Quality Remediation"),
    ("DIG-WORK", "WRK-301", "Email and Collaboration Migration"),
    ("DIG-WORK", "WRK-302", "Identity and Access Management Refresh"),
    ("DIG-WORK", "WRK-303", "Laptop Refresh"),
    ("DIG-WORK", "WRK-304", "Intranet Relaunch"),
    ("DIGITAL", "DIG-001", "Generative AI Assistant Pilot"),
    ("OPS-SUPPLY", "SUP-401", "Warehouse Management System Upgrade"),
    ("OPS-SUPPLY", "SUP-402", "Demand Forecasting with Machine Learning"),
    ("OPS-SUPPLY", "SUP-403", "Supplier Self-Service Portal"),
    ("OPS-SUPPLY", "SUP-404", "Fleet Telematics"),
    ("OPS-FIN", "FIN-501", "ERP Finance Module Upgrade"),
    ("OPS-FIN", "FIN-502", "Procure-to-Pay Automation"),
    ("OPS-FIN", "FIN-503", "Month-End Close Acceleration"),
    ("OPS-FIN", "FIN-504", "Expense Management Replacement"),
    ("OPS-HSE", "HSE-601", "Incident Reporting App"),
    ("OPS-HSE", "HSE-602", "ISO 45001 Certification"),
    ("OPS-HSE", "HSE-603", "Contractor Induction Portal"),
    ("OPS-HSE", "HSE-604", "SOX Controls Automation"),
    ("OPS", "OPS-001", "Shared Services Blueprint"),
    ("GRO-CX", "CX-701", "Contact Centre Platform Migration"),
    ("GRO-CX", "CX-702", "CRM Consolidation"),
    ("GRO-CX", "CX-703", "Voice of the Customer Programme"),
    ("GRO-CX", "CX-704", "Loyalty Programme Relaunch"),
    ("GRO-MOBILE", "MOB-801", "Mobile App 3.0"),
    ("GRO-MOBILE", "MOB-802", "Checkout Redesign"),
    ("GRO-MOBILE", "MOB-803", "Product Search Relevance"),
    ("GRO-MOBILE", "MOB-804", "Marketplace Integration"),
    ("GROWTH", "GRO-001", "Brand Refresh"),
    ("GROWTH", "GRO-002", "Nordic Market Entry"),
)

PHASES = {
    "waterfall": ("initiation", "planning", "execution", "closure"),
    "agile": ("discovery", "alpha", "beta", "live"),
    "hybrid": ("initiation", "planning", "execution", "closure"),
}
METHODOLOGY_OF = {"waterfall": "STAGE-GATE", "hybrid": "STAGE-GATE", "agile": "AGILE"}
"""The published methodology a demo project follows, by the way it was drawn."""
STATUS_WEIGHTS = {
    ProjectStatus.ACTIVE: 50,
    ProjectStatus.PROPOSED: 15,
    ProjectStatus.ON_HOLD: 8,
    ProjectStatus.COMPLETED: 20,
    ProjectStatus.CANCELLED: 7,
}
DEPARTMENTS = ("IT", "Operations", "Finance", "Marketing", "Customer Service", "HR")


def _draw_dates(
    rng: random.Random, status: ProjectStatus, today: date
) -> tuple[date, date, date | None, date | None]:
    """Planned and actual dates that fit the status (completed work lies in the past...)."""
    duration = timedelta(days=rng.randrange(90, 541, 7))
    if status is ProjectStatus.PROPOSED:
        start = today + timedelta(days=rng.randrange(14, 151))
    elif status is ProjectStatus.COMPLETED:
        start = today - duration - timedelta(days=rng.randrange(20, 300))
    else:
        start = today - timedelta(days=rng.randrange(30, int(duration.days * 0.9) + 31))
    end = start + duration
    if status is ProjectStatus.PROPOSED:
        return start, end, None, None
    actual_start = min(start + timedelta(days=rng.randrange(0, 22)), today)
    actual_end = None
    if status is ProjectStatus.COMPLETED:
        actual_end = min(end + timedelta(days=rng.randrange(-15, 46)), today)
    return start, end, actual_start, actual_end


def _percent(rng: random.Random, status: ProjectStatus, start: date, end: date, today: date) -> int:
    if status is ProjectStatus.PROPOSED:
        return 0
    if status is ProjectStatus.COMPLETED:
        return 100
    elapsed = (today - start).days / max((end - start).days, 1)
    return max(5, min(95, round(elapsed * 100) + rng.randrange(-15, 8)))


def _health(rng: random.Random, status: ProjectStatus) -> Health:
    if status in (ProjectStatus.PROPOSED, ProjectStatus.COMPLETED):
        return Health.GREEN
    if status is ProjectStatus.CANCELLED:
        return rng.choice((Health.AMBER, Health.RED))
    return rng.choices((Health.GREEN, Health.AMBER, Health.RED), weights=(55, 30, 15))[0]


def demo_projects(
    today: date,
    people: dict[str, uuid.UUID],
    portfolios: dict[str, uuid.UUID],
    methodologies: dict[str, uuid.UUID] | None = None,
) -> list[Any]:
    """The demo's projects: the same for the same month, whatever already exists."""
    rng = random.Random(SEED)
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    projects = []
    for portfolio_key, key, name in PROJECT_NAMES:
        status = rng.choices(statuses, weights=weights)[0]
        methodology = rng.choice(sorted(PHASES))
        phases = PHASES[methodology]
        start, end, actual_start, actual_end = _draw_dates(rng, status, today)
        percent = _percent(rng, status, start, end, today)
        phase = phases[min(len(phases) - 1, percent * len(phases) // 100)]
        department = rng.choice(DEPARTMENTS)
        projects.append(
            PROJECTS.create.model_validate(
                dict(
                    key=key,
                    name=name,
                    description=f"{name}, delivered by the {department} team.",
                    portfolio_id=portfolios[portfolio_key],
                    manager_id=people[rng.choice(MANAGERS)],
                    sponsor_id=people[rng.choice(SPONSORS)],
                    methodology=METHODOLOGY_OF[methodology],
                    methodology_id=(methodologies or {}).get(METHODOLOGY_OF[methodology]),
                    phase=phase,
                    status=status,
                    health=_health(rng, status),
                    priority_score=rng.randrange(20, 96),
                    planned_budget=Decimal(rng.randrange(16, 500) * 5000),
                    planned_start=start,
                    planned_end=end,
                    actual_start=actual_start,
                    actual_end=actual_end,
                    percent_complete=percent,
                    attributes={
                        "department": department,
                        "capex": rng.random() < 0.6,
                        "cost_centre": f"CC-{rng.randrange(1000, 10000)}",
                    },
                )
            )
        )
    return projects


@dataclass
class SeedResult:
    created: dict[str, int]
    present: dict[str, int]
    people: dict[str, uuid.UUID]
    portfolios: dict[str, uuid.UUID]
    methodologies: dict[str, uuid.UUID] = field(default_factory=dict)


async def _seed_people(ctx: ServiceContext, result: SeedResult) -> None:
    for person in PEOPLE:
        found = await ctx.session.scalar(select(Person).where(Person.email == person.email))
        if found is None:
            skills = [people.Skill(skill=skill, level=level) for skill, level in person.skills]
            data = people.PEOPLE.create.model_validate(
                {
                    "name": person.name,
                    "email": person.email,
                    "title": person.title,
                    "skills": skills,
                    "weekly_capacity_hours": person.capacity,
                }
            )
            made = await resources.create(ctx, people.PEOPLE, data)
            result.created["people"] += 1
            result.people[person.name] = made["id"]
        else:
            result.present["people"] += 1
            result.people[person.name] = found.id


async def _seed_portfolios(ctx: ServiceContext, result: SeedResult) -> None:
    for portfolio in PORTFOLIOS:  # parents come before their programs
        try:
            found = await resources.get(ctx, portfolios.PORTFOLIOS, portfolio.key)
            result.portfolios[portfolio.key] = found.id
            result.present["portfolios"] += 1
        except NotFound:
            data = portfolios.PORTFOLIOS.create.model_validate(
                {
                    "key": portfolio.key,
                    "name": portfolio.name,
                    "description": portfolio.description,
                    "owner_id": result.people[portfolio.owner],
                    "parent_id": result.portfolios[portfolio.parent] if portfolio.parent else None,
                    "budget_cap": Decimal(portfolio.budget_cap),
                }
            )
            made = await resources.create(ctx, portfolios.PORTFOLIOS, data)
            result.created["portfolios"] += 1
            result.portfolios[portfolio.key] = made["id"]


async def _seed_projects(ctx: ServiceContext, result: SeedResult) -> None:
    today = date.today().replace(day=1)
    for data in demo_projects(today, result.people, result.portfolios, result.methodologies):
        try:
            await resources.get(ctx, PROJECTS, data.key)
            result.present["projects"] += 1
        except NotFound:
            await resources.create(ctx, PROJECTS, data)
            result.created["projects"] += 1


def _rule(
    code: str, title: str, severity: str, check: str, when: dict[str, Any], **params: Any
) -> dict[str, Any]:
    return {
        "code": code,
        "title": title,
        "severity": severity,
        "applies_when": when,
        "check": {"type": check, "params": params},
    }


ACTIVE = {"status": {"in": ["active", "on_hold"]}}
DEMO_POLICIES: tuple[tuple[str, str, str, list[dict[str, Any]]], ...] = (
    (
        "REPORTING",
        "Status reporting",
        "Every running project reports fortnightly and keeps its risk register reviewed.",
        [
            _rule(
                "FRESH", "Report every two weeks", "high", "status_report_fresh", ACTIVE, days=14
            ),
            _rule(
                "RISKS",
                "Review the top risks monthly",
                "medium",
                "risks_reviewed",
                ACTIVE,
                count=3,
                days=30,
            ),
            _rule("SPONSOR", "Name a sponsor", "medium", "field_present", {}, field="sponsor_id"),
        ],
    ),
    (
        "FINANCE",
        "Financial control",
        "Projects of 250,000 and more plan against a baseline and stay within their budget.",
        [
            _rule(
                "BASELINE",
                "Plan against a baseline",
                "high",
                "baseline_present",
                {"budget": {"gte": 250000}, **ACTIVE},
            ),
            _rule(
                "VARIANCE",
                "Spend within 10 % of the budget",
                "critical",
                "budget_variance",
                {"budget": {"gt": 0}},
                max_percent=10,
            ),
            _rule(
                "COST-CENTRE",
                "Book to a cost centre",
                "low",
                "field_present",
                {},
                field="attributes.cost_centre",
            ),
        ],
    ),
    (
        "DELIVERY",
        "Delivery discipline",
        "Milestones are kept or re-planned, and slips against the baseline are escalated.",
        [
            _rule(
                "OVERDUE",
                "No milestone two weeks overdue",
                "high",
                "milestone_overdue",
                ACTIVE,
                max_days=14,
            ),
            _rule("SLIP", "Slip at most 30 days", "medium", "schedule_slip", ACTIVE, max_days=30),
            _rule("END", "Plan an end date", "low", "field_present", {}, field="planned_end"),
            _rule(
                "PMP",
                "Large projects are led by a certified PMP",
                "high",
                "manager_certified",
                {"budget": {"gte": 1000000}, **ACTIVE},
                certification="PMP",
            ),
        ],
    ),
)
"""Three policies in force: what the compliance reports of the tour judge."""


def _action(kind: Any, verb: str) -> Any:
    """The declared action ``verb`` of ``kind`` (publish, start, complete...)."""
    return next(action for action in kind.actions if action.verb == verb)


async def _published(
    ctx: ServiceContext, kind: ResourceType[Any], document: dict[str, Any]
) -> uuid.UUID | None:
    """A standard's first revision, published; None when the key has one already."""
    model = kind.model
    found = await ctx.session.scalar(select(model.id).where(model.key == document["key"]).limit(1))
    if found is not None:
        return None
    made = await resources.create(ctx, kind, kind.create.model_validate(document))
    await resources.act(ctx, kind, _action(kind, "publish"), made["id"], None, None)
    return uuid.UUID(str(made["id"]))


async def _seed_policies(ctx: ServiceContext, result: SeedResult) -> None:
    for key, title, text, rules in DEMO_POLICIES:
        document = {"key": key, "title": title, "text": text, "rules": rules}
        made = await _published(ctx, POLICIES, document)
        if made is None:
            result.present["policies"] += 1
        else:
            result.created["policies"] += 1


DEMO_METHODOLOGIES: tuple[dict[str, Any], ...] = (
    {
        "key": "STAGE-GATE",
        "name": "Stage-gate",
        "description": "Four stages; a gate opens each one after the first.",
        "phases": [
            {"name": "initiation", "description": "Why, what, for whom; the charter."},
            {
                "name": "planning",
                "gate": {"deliverables": ["Project charter"], "approver_roles": ["sponsor"]},
            },
            {
                "name": "execution",
                "gate": {
                    "deliverables": ["Project plan"],
                    "approver_roles": ["sponsor", "pmo"],
                    "rules": ["SPONSOR"],
                },
            },
            {
                "name": "closure",
                "gate": {"deliverables": ["Acceptance report"], "approver_roles": ["sponsor"]},
            },
        ],
    },
    {
        "key": "AGILE",
        "name": "Agile delivery",
        "description": "Discovery to live in increments; the product owner opens each stage.",
        "phases": [
            {"name": "discovery"},
            {"name": "alpha", "gate": {"approver_roles": ["product_owner"]}},
            {"name": "beta", "gate": {"approver_roles": ["product_owner"], "rules": ["FRESH"]}},
            {
                "name": "live",
                "gate": {"deliverables": ["Service assessment"], "approver_roles": ["pmo"]},
            },
        ],
    },
)
"""Two methodologies in force: the demo's projects follow them."""

DEMO_TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "key": "IT-PROJECT",
        "name": "IT project",
        "description": "A system delivered through the stage gates.",
        "methodology": "STAGE-GATE",
        "defaults": {
            "priority_score": 50,
            "duration_days": 270,
            "attributes": {"department": "IT", "capex": True},
        },
        "milestones": [
            {"name": "Charter approved", "offset_days": 21},
            {"name": "Design signed off", "offset_days": 90},
            {"name": "Go-live", "offset_days": 240},
        ],
        "risks": [
            {"title": "Key people leave the team", "probability": 2, "impact": 4},
            {"title": "Requirements change late", "probability": 3, "impact": 3},
        ],
        "deliverables": [
            {"name": "Project charter", "phase": "initiation", "offset_days": 14},
            {"name": "Project plan", "phase": "planning", "offset_days": 45},
            {"name": "Acceptance report", "phase": "execution", "offset_days": 250},
        ],
    },
    {
        "key": "AGILE-PRODUCT",
        "name": "Digital product",
        "description": "A product built in increments.",
        "methodology": "AGILE",
        "defaults": {"priority_score": 60, "duration_days": 180},
        "milestones": [
            {"name": "Alpha", "offset_days": 60},
            {"name": "Public beta", "offset_days": 120},
        ],
        "risks": [{"title": "Low adoption", "probability": 3, "impact": 4}],
        "deliverables": [{"name": "Service assessment", "phase": "beta", "offset_days": 170}],
    },
)
"""Two templates in force; a project is made from the first (``SHOWCASE``)."""

SHOWCASE = {
    "key": "CRM-NEXT",
    "name": "Customer Platform Renewal",
    "portfolio": "GRO-CX",
    "template": "IT-PROJECT",
    "manager": "Hannah Schmidt",
    "sponsor": "Amelia Hart",
}
"""A project made from a template: the README's tour moves it through a gate."""


async def _seed_standards(ctx: ServiceContext, result: SeedResult) -> None:
    for document in DEMO_METHODOLOGIES:
        made = await _published(ctx, METHODOLOGIES, document)
        result.created["standards"] += made is not None
        result.present["standards"] += made is None
    for document in DEMO_TEMPLATES:
        made = await _published(ctx, TEMPLATES, document)
        result.created["standards"] += made is not None
        result.present["standards"] += made is None
    for key in METHODOLOGY_OF.values():
        found = await ctx.session.scalar(
            select(Methodology.id).where(
                Methodology.key == key, Methodology.status == StandardStatus.PUBLISHED
            )
        )
        if found is not None:
            result.methodologies[key] = found


async def _seed_showcase(ctx: ServiceContext, result: SeedResult) -> None:
    try:
        await resources.get(ctx, PROJECTS, SHOWCASE["key"])
        result.present["showcase"] += 1
        return
    except NotFound:
        pass
    data = PROJECTS.create.model_validate(
        {
            "key": SHOWCASE["key"],
            "name": SHOWCASE["name"],
            "portfolio_id": result.portfolios[SHOWCASE["portfolio"]],
            "manager_id": result.people[SHOWCASE["manager"]],
            "sponsor_id": result.people[SHOWCASE["sponsor"]],
            "template": SHOWCASE["template"],
            "status": "active",
            "planned_start": date.today().replace(day=1),
        }
    )
    await resources.create(ctx, PROJECTS, data)
    result.created["showcase"] += 1


DEMO_LESSONS: tuple[dict[str, Any], ...] = (
    {
        "category": "vendors",
        "title": "Sign the integration vendor before design starts",
        "what_happened": "The vendor contract took eleven weeks to sign; design waited on "
        "interface decisions the vendor alone could make, and the build slipped a month.",
        "recommendation": "Start procurement in initiation and make the signed contract an "
        "entry criterion of design.",
        "tags": ["procurement", "schedule"],
    },
    {
        "category": "stakeholders",
        "title": "Name a business owner for every data migration",
        "what_happened": "Nobody owned the quality of the legacy customer data; the "
        "migration rehearsals failed three times on duplicates nobody would decide on.",
        "recommendation": "Give each migrated data set an owner who signs off the "
        "cleansing rules before the first rehearsal.",
        "tags": ["data", "migration"],
    },
    {
        "category": "planning",
        "title": "Plan the cut-over weekend as a project of its own",
        "what_happened": "The cut-over plan was a single line in the schedule; on the "
        "weekend the rollback steps were missing and the go-live was postponed.",
        "recommendation": "Write the cut-over runbook with rollback steps and rehearse it "
        "twice before the go/no-go meeting.",
        "tags": ["go-live", "schedule"],
    },
    {
        "category": "risks",
        "title": "Review the top risks with the sponsor every month",
        "what_happened": "The risk register was updated but never discussed with the "
        "sponsor; the budget risk that materialised had been open for five months.",
        "recommendation": "Put the five highest risks on the steering agenda each month.",
        "tags": ["governance"],
    },
    {
        "category": "testing",
        "title": "Budget performance testing before user acceptance",
        "what_happened": "Load tests ran after user acceptance; the month-end batch ran "
        "three times too long and the release waited for a redesign of two reports.",
        "recommendation": "Run load tests on production-sized data before acceptance.",
        "tags": ["quality", "performance"],
    },
    {
        "category": "vendors",
        "title": "Keep licence renewals out of the critical path",
        "what_happened": "A licence expired mid-sprint; the vendor's renewal took two "
        "weeks and the team could not build.",
        "recommendation": "Track licence expiry dates in the plan as milestones.",
        "tags": ["procurement"],
    },
)
"""Lessons learned on the first demo projects (one each), searchable (``q=``)."""


async def _seed_lessons(ctx: ServiceContext, result: SeedResult) -> None:
    projects = (
        await ctx.session.scalars(
            select(Project.id).where(Project.archived_at.is_(None)).order_by(Project.key)
        )
    ).all()
    for project_id, lesson in zip(projects, DEMO_LESSONS, strict=False):
        found = await ctx.session.scalar(
            select(Lesson.id).where(
                Lesson.project_id == project_id, Lesson.title == lesson["title"]
            )
        )
        if found is not None:
            result.present["lessons"] += 1
            continue
        await resources.create(
            ctx, LESSONS, LESSONS.create.model_validate({**lesson, "project_id": project_id})
        )
        result.created["lessons"] += 1


async def _seed_audits(ctx: ServiceContext, result: SeedResult) -> None:
    """The showcase project's compliance review, in progress, its failing rules raised
    as findings; and a completed health check of the first demo project."""
    showcase: Any = await resources.get(ctx, PROJECTS, SHOWCASE["key"])
    first = await ctx.session.scalar(
        select(Project.id)
        .where(Project.archived_at.is_(None), Project.id != showcase.id)
        .order_by(Project.key)
        .limit(1)
    )
    auditor = result.people["Sofia Marques"]
    for project_id, type_, completed in (
        (showcase.id, "compliance_review", False),
        (first, "health_check", True),
    ):
        found = await ctx.session.scalar(
            select(Audit.id).where(Audit.project_id == project_id, Audit.type == type_)
        )
        if found is not None or project_id is None:
            result.present["audits"] += 1
            continue
        data = AUDITS.create.model_validate(
            {
                "project_id": project_id,
                "type": type_,
                "auditor_id": auditor,
                "planned_on": date.today(),
                "scope": "The standards the project follows, from initiation to today.",
            }
        )
        audit = await resources.create(ctx, AUDITS, data)
        start = _action(AUDITS, "start")
        started: Any = await resources.act(ctx, AUDITS, start, audit["id"], None, None)
        await raise_failed_rules(
            ctx, audit["id"], RaiseFailedRules(due_on=date.today() + timedelta(days=30))
        )
        if completed:
            answers = [
                {
                    "item": item["item"],
                    "answer": "does_not_conform" if item.get("outcome") == "fail" else "conforms",
                }
                for item in started.checklist
            ]
            if answers:
                answer = _action(AUDITS, "answer")
                body = answer.input.model_validate({"answers": answers})
                await resources.act(ctx, AUDITS, answer, audit["id"], body, None)
            complete = _action(AUDITS, "complete")
            summary = complete.input.model_validate(
                {"summary": "Healthy; the failing rules are raised as findings."}
            )
            await resources.act(ctx, AUDITS, complete, audit["id"], summary, None)
        result.created["audits"] += 1


DEMO_COURSES: tuple[dict[str, Any], ...] = (
    {
        "title": "PMP exam preparation",
        "skill": "project management",
        "level": 4,
        "hours": 35,
        "grants_certification": {"name": "PMP", "issuer": "PMI", "valid_days": 1095},
    },
    {"title": "Agile delivery foundations", "skill": "agile", "level": 3, "hours": 16},
    {
        "title": "Risk management in practice",
        "skill": "risk management",
        "level": 4,
        "hours": 12,
        "grants_certification": {"name": "PMI-RMP", "issuer": "PMI", "valid_days": 1095},
    },
)
DEMO_ENROLLMENTS: tuple[tuple[str, str, int | None], ...] = (
    # (person, course, score when completed; None: still in progress)
    ("Ethan Brooks", "PMP exam preparation", 88),
    ("Laura Chen", "PMP exam preparation", 91),
    ("Kenji Watanabe", "PMP exam preparation", None),
    ("Grace Mwangi", "Agile delivery foundations", 95),
    ("Omar Haddad", "Risk management in practice", None),
)
"""Who trains: two managers certified PMP by the course, others on their way."""


async def _seed_training(ctx: ServiceContext, result: SeedResult) -> None:
    """Three courses, managers enrolled (some completed: certified, skills raised), and a
    PMP of Hannah Schmidt's that expires in two weeks (``/training/gaps`` shows it)."""
    courses: dict[str, Any] = {}
    for course in DEMO_COURSES:
        found = await ctx.session.scalar(select(Course.id).where(Course.title == course["title"]))
        if found is not None:
            courses[course["title"]] = found
            result.present["training"] += 1
            continue
        made = await resources.create(ctx, COURSES, COURSES.create.model_validate(course))
        courses[course["title"]] = made["id"]
        result.created["training"] += 1
    for person, title, score in DEMO_ENROLLMENTS:
        person_id = result.people[person]
        found = await ctx.session.scalar(
            select(Enrollment.id).where(
                Enrollment.person_id == person_id, Enrollment.course_id == courses[title]
            )
        )
        if found is not None:
            result.present["training"] += 1
            continue
        body = {"person_id": person_id, "course_id": courses[title]}
        made = await resources.create(ctx, ENROLLMENTS, ENROLLMENTS.create.model_validate(body))
        await resources.act(ctx, ENROLLMENTS, _action(ENROLLMENTS, "start"), made["id"], None, None)
        if score is not None:
            complete = _action(ENROLLMENTS, "complete")
            done = complete.input.model_validate({"score": score})
            await resources.act(ctx, ENROLLMENTS, complete, made["id"], done, None)
        result.created["training"] += 1
    holder = result.people["Hannah Schmidt"]
    found = await ctx.session.scalar(
        select(Certification.id).where(
            Certification.person_id == holder, Certification.name == "PMP"
        )
    )
    if found is not None:
        result.present["training"] += 1
        return
    today = date.today()
    held = {
        "person_id": holder,
        "name": "PMP",
        "issuer": "PMI",
        "issued_on": today - timedelta(days=1080),
        "expires_on": today + timedelta(days=15),
    }
    await resources.create(ctx, CERTIFICATIONS, CERTIFICATIONS.create.model_validate(held))
    result.created["training"] += 1


Step = Callable[[ServiceContext, SeedResult], Awaitable[None]]
STEPS: tuple[tuple[str, Step], ...] = (
    ("people", _seed_people),
    ("portfolios", _seed_portfolios),
    ("policies", _seed_policies),
    ("standards", _seed_standards),
    ("projects", _seed_projects),
    ("showcase", _seed_showcase),
    ("lessons", _seed_lessons),
    ("training", _seed_training),
    ("audits", _seed_audits),
)


async def seed_demo(sessions: async_sessionmaker[AsyncSession], progress: Progress) -> SeedResult:
    """Run every step in its own unit of work (one commit each), reporting as it goes."""
    names = [name for name, _ in STEPS]
    result = SeedResult(dict.fromkeys(names, 0), dict.fromkeys(names, 0), {}, {})
    request_id = f"seed-demo-{uuid.uuid4().hex[:12]}"
    for number, (name, step) in enumerate(STEPS, start=1):
        progress(f"[{number}/{len(STEPS)}] {name}...")
        async with unit_of_work(sessions) as session:
            await step(ServiceContext(session, SYSTEM, request_id=request_id), result)
        progress(
            f"[{number}/{len(STEPS)}] {name}: {result.created[name]} created, "
            f"{result.present[name]} already present"
        )
    return result
