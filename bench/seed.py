"""Seed pmo-api's own benchmark databases with the ceiling's volume.

PostgreSQL: the database is dropped and created anew, brought to the latest schema
with ``pmo-api migrate``, then loaded with COPY (asyncpg) and VACUUM ANALYZEd.
SQLite: the file is removed, migrated the same way, then loaded with executemany
through SQLAlchemy Core on the project's own table definitions (so money is stored
as cents, UUIDs and timestamps exactly as the service stores them).

    .venv/bin/python bench/seed.py                       # PostgreSQL, 10,000 projects
    .venv/bin/python bench/seed.py --scale large         # 100,000 projects
    .venv/bin/python bench/seed.py --sqlite /tmp/b.db    # a SQLite file instead

What is seeded (deterministic for a given --seed; dates relative to today):
people (one per 25 projects, at least 400), 20 portfolios, the projects with every
field filled the way a PMO fills it, one ``*.created`` audit event per person,
portfolio and project, and the ceiling's volume of project records: 10 risks and 5
milestones per project (100,000 and 50,000 at the default scale); 10 lessons learned
per project (100,000), each a title and a story of about 200 words written from a PMO's
vocabulary (the words skewed as in real text), for the full-text search; an audit of
every second project (5,000), most completed, with 10 findings each (50,000: 60 % open
or in remediation, due dates from four months ago to three months ahead).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
PMO_API = ROOT / ".venv" / "bin" / "pmo-api"
ADMIN_DSN = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
DEFAULT_DB = "pmo_api_bench"
SCALES = {"default": 10_000, "large": 100_000}
N_PORTFOLIOS = 20

FIRST = ["Ada", "Bruno", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines",
         "Jonas", "Keiko", "Luca", "Maya", "Nils", "Olga", "Pavel", "Quinn", "Rosa",
         "Sven", "Tara", "Uma", "Victor", "Wen", "Xavier", "Yara", "Zoe"]  # fmt: skip
LAST = ["Meyer", "Rossi", "Dubois", "Nowak", "Silva", "Jensen", "Kim", "Okafor",
        "Larsen", "Novak", "Schmidt", "Garcia", "Ivanova", "Tanaka", "Brown", "Haddad"]  # fmt: skip
WORDS = ["Apollo", "Atlas", "Beacon", "Cobalt", "Delta", "Ember", "Falcon", "Granite",
         "Harbor", "Ion", "Juniper", "Keystone", "Lumen", "Meridian", "Nimbus", "Orion",
         "Pioneer", "Quartz", "Ridge", "Summit", "Titan", "Unity", "Vertex", "Willow"]  # fmt: skip
AREAS = ["ERP migration", "Data platform", "CRM rollout", "Cloud landing zone",
         "Mobile app", "Warehouse automation", "Payroll replacement", "Security uplift",
         "Customer portal", "Analytics", "Network refresh", "Compliance programme"]  # fmt: skip
TITLES = ["Project Manager", "Programme Manager", "Portfolio Lead", "Business Analyst",
          "Architect", "Engineering Manager", "Product Owner", "Director"]  # fmt: skip
SKILLS = ["planning", "budgeting", "stakeholders", "agile", "risk", "sql", "cloud", "sap"]
METHODS = ["Scrum", "Kanban", "Waterfall", "Hybrid", "PRINCE2"]
PHASES = ["Initiation", "Planning", "Execution", "Monitoring", "Closing"]
STATUSES = (["proposed", "active", "on_hold", "completed", "cancelled"], [10, 55, 10, 20, 5])
HEALTHS = (["green", "amber", "red"], [60, 28, 12])
RISK_STATUSES = (["open", "mitigating", "occurred", "closed"], [50, 15, 5, 30])
RISK_RESPONSES = ["avoid", "mitigate", "transfer", "accept", None]
RISKS_PER_PROJECT = 10
LESSONS_PER_PROJECT = 10
PROJECTS_PER_AUDIT = 2
FINDINGS_PER_AUDIT = 10
MILESTONES_PER_PROJECT = 5
MILESTONE_NAMES = ["Kick-off", "Design signed off", "Build complete", "Go-live", "Closure"]

Row = dict[str, Any]


def _uuid(r: random.Random) -> uuid.UUID:
    return uuid.UUID(int=r.getrandbits(128), version=4)


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def _event(r: random.Random, entity: str, entity_id: uuid.UUID, at: dt.datetime, row: Row) -> Row:
    fields = ("key", "name") if "key" in row else ("name", "email")
    return {
        "id": _uuid(r),
        "occurred_at": at,
        "action": f"{entity}.created",
        "entity_type": entity,
        "entity_id": entity_id,
        "actor_key_id": None,
        "actor_name": "bench seed",
        "actor_role": "admin",
        "request_id": "bench-seed",
        "changes": {f: {"before": None, "after": row[f]} for f in fields},
    }


def generate(projects: int, seed: int = 42, metrics: bool = False) -> dict[str, list[Row]]:
    """Every row to load, by table, as the Python values the ORM would hold. With
    ``metrics`` (the executive metrics' benchmark, ``bench/metrics.py``): the portfolios
    nested three levels deep under PF-001, and each project's baseline, submitted status
    reports, cost entries and alignments with 10 objectives; no lessons nor audits."""
    r = random.Random(seed)
    today = dt.date.today()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    events: list[Row] = []

    people: list[Row] = []
    certifications: list[Row] = []
    for i in range(1, max(400, projects // 25) + 1):
        first, last = r.choice(FIRST), r.choice(LAST)
        created = now - dt.timedelta(days=r.randint(200, 2000))
        row = {
            "id": _uuid(r),
            "name": f"{first} {last}",
            "email": f"{first}.{last}.{i}@example.com".lower(),
            "title": r.choice(TITLES),
            "skills": [
                {"skill": s, "level": r.randint(1, 5)} for s in r.sample(SKILLS, r.randint(1, 4))
            ],
            "weekly_capacity_hours": float(r.choice([40, 40, 40, 32, 24, 20])),
            "active": r.random() > 0.03,
            "version": 1,
            "created_at": created,
            "updated_at": created,
            "archived_at": None,
        }
        people.append(row)
        events.append(_event(r, "person", row["id"], created, row))
        # Most managers hold a PMP, some expired: the compliance check manager_certified
        # passes and fails.
        if r.random() < 0.7:
            held = {
                "id": _uuid(r),
                "person_id": row["id"],
                "name": "PMP",
                "issuer": "PMI",
                "issued_on": None,
                "expires_on": now.date() + dt.timedelta(days=r.randint(-200, 900)),
                "course_id": None,
                "enrollment_id": None,
                "version": 1,
                "created_at": created,
                "updated_at": created,
                "archived_at": None,
            }
            certifications.append(held)
    person_ids = [p["id"] for p in people]

    portfolios: list[Row] = []
    for i in range(1, N_PORTFOLIOS + 1):
        created = now - dt.timedelta(days=r.randint(1200, 2000))
        row = {
            "id": _uuid(r),
            "key": f"PF-{i:03d}",
            "name": f"{WORDS[i % len(WORDS)]} portfolio {i}",
            "description": f"Portfolio {i}: {r.choice(AREAS)} and related work",
            "owner_id": r.choice(person_ids),
            "parent_id": None,
            "budget_cap": _money(r.randint(50, 400) * 1_000_000),
            "priority_weight_alignment": 50,
            "priority_weight_value": 30,
            "priority_weight_risk": 20,
            "version": 1,
            "created_at": created,
            "updated_at": created,
            "archived_at": None,
        }
        portfolios.append(row)
        events.append(_event(r, "portfolio", row["id"], created, row))
    portfolio_ids = [p["id"] for p in portfolios]

    rows: list[Row] = []
    for i in range(1, projects + 1):
        status = r.choices(*STATUSES)[0]
        start = today - dt.timedelta(days=r.randint(-180, 3 * 365))
        end = start + dt.timedelta(days=r.randint(60, 900))
        if status == "completed" and end >= today:  # finished work lies in the past
            shift = dt.timedelta(days=(end - today).days + r.randint(10, 300))
            start, end = start - shift, end - shift
        elif status in ("active", "on_hold") and start > today:  # running work has begun
            shift = dt.timedelta(days=(start - today).days + r.randint(0, 60))
            start, end = start - shift, end - shift
        planned = _money(r.randint(20_000, 5_000_000))
        started = status in ("active", "on_hold", "completed") or (
            status == "cancelled" and r.random() < 0.5
        )
        actual_start = start + dt.timedelta(days=r.randint(0, 30)) if started else None
        actual_end = end + dt.timedelta(days=r.randint(-20, 0)) if status == "completed" else None
        if actual_start is not None and actual_end is not None and actual_end < actual_start:
            actual_end = actual_start
        created = dt.datetime.combine(start, dt.time(9), dt.UTC) - dt.timedelta(
            days=r.randint(10, 90)
        )
        updated = min(now, created + dt.timedelta(days=r.randint(0, 400), seconds=i))
        row = {
            "id": _uuid(r),
            "key": f"PRJ-{i:06d}",
            "name": f"{r.choice(WORDS)} {r.choice(AREAS)} {i}",
            "description": f"Deliver the {r.choice(AREAS).lower()} for business unit "
            f"{r.randint(1, 40)}.",
            "portfolio_id": r.choice(portfolio_ids),
            "manager_id": r.choice(person_ids),
            "sponsor_id": r.choice(person_ids) if r.random() < 0.9 else None,
            "methodology": r.choice(METHODS),
            "phase": r.choice(PHASES),
            "status": status,
            "health": r.choices(*HEALTHS)[0],
            "priority_score": r.randint(0, 100),
            "planned_budget": planned,
            "actual_cost": _money(float(planned) * r.uniform(0.0, 1.3)) if started else _money(0),
            "planned_start": start,
            "planned_end": end,
            "actual_start": actual_start,
            "actual_end": actual_end,
            "percent_complete": 100 if status == "completed" else r.randint(0, 95),
            "attributes": {
                "cost_center": f"CC-{r.randint(1000, 9999)}",
                "business_unit": f"BU-{r.randint(1, 40):02d}",
                "capex": r.random() < 0.6,
            },
            "version": 1,
            "created_at": created,
            "updated_at": updated,
            "archived_at": None,
        }
        rows.append(row)
        events.append(_event(r, "project", row["id"], created, row))
    risks = [
        _risk(r, project, person_ids, today) for project in rows for _ in range(RISKS_PER_PROJECT)
    ]
    by_id = {project["id"]: project for project in rows}
    for project in rows:  # the counts each project keeps of its open risks
        project.update(open_risks=0, open_high_risks=0, baseline_budget=None,
                       baseline_start=None, baseline_end=None, aligned_objectives=0)  # fmt: skip
    for risk in risks:
        if risk["status"] in ("open", "mitigating"):
            project = by_id[risk["project_id"]]
            project["open_risks"] += 1
            project["open_high_risks"] += risk["score"] >= 10
    milestones = [
        _milestone(r, project, n, today) for project in rows for n in range(MILESTONES_PER_PROJECT)
    ]
    if metrics:
        lessons: list[Row] = []
        audits: list[Row] = []
        findings: list[Row] = []
    else:
        lessons = [_lesson(r, project) for project in rows for _ in range(LESSONS_PER_PROJECT)]
        audits = [
            _audit(r, project, person_ids, today, now) for project in rows[::PROJECTS_PER_AUDIT]
        ]
        findings = [
            _finding(r, audit, person_ids, today, now)
            for audit in audits
            for _ in range(FINDINGS_PER_AUDIT)
        ]
    policies = [
        {
            "id": _uuid(r),
            "key": key,
            "revision": 1,
            "title": title,
            "text": None,
            "rules": rules,
            "status": "published",
            "published_at": now,
            "retired_at": None,
            "version": 2,
            "created_at": now,
            "updated_at": now,
            "archived_at": None,
        }
        for key, title, rules in POLICIES
    ]
    tables = {
        "people": people,
        "certifications": certifications,
        "portfolios": portfolios,
        "projects": rows,
        "risks": risks,
        "milestones": milestones,
        "lessons": lessons,
        "policies": policies,
        "audits": audits,
        "findings": findings,
        "audit_events": events,
    }
    if metrics:
        tables.update(_metrics_rows(r, portfolios, rows, person_ids, today, now))
    return {name: found for name, found in tables.items() if found}


OBJECTIVES = 10
REPORTS_PER_PROJECT = 4
COSTS_PER_PROJECT = 3


def _metrics_rows(
    r: random.Random,
    portfolios: list[Row],
    projects: list[Row],
    person_ids: list[uuid.UUID],
    today: dt.date,
    now: dt.datetime,
) -> dict[str, list[Row]]:
    """The metrics' data: PF-001 the root, PF-002..PF-005 below it, the other fifteen
    below those (three levels); for each started project a baseline (the project points
    at it: ``link_baselines``), four submitted weekly status reports and three cost
    entries adding up to its actual cost; 10 objectives, 80 % of the projects aligned
    with one or two of them."""
    root, middle, leaves = portfolios[0], portfolios[1:5], portfolios[5:]
    for portfolio in middle:
        portfolio["parent_id"] = root["id"]
    for i, portfolio in enumerate(leaves):
        portfolio["parent_id"] = middle[i % len(middle)]["id"]
    baselines: list[Row] = []
    reports: list[Row] = []
    costs: list[Row] = []
    for project in projects:
        if project["actual_start"] is None:
            continue
        at = project["created_at"]
        baselines.append(baseline := {
            "id": _uuid(r), "project_id": project["id"], "name": "Approved plan",
            "description": None,
            "planned_start": project["planned_start"] - dt.timedelta(days=r.randint(0, 20)),
            "planned_end": project["planned_end"] - dt.timedelta(days=r.randint(0, 90)),
            "planned_budget": _money(float(project["planned_budget"]) * r.uniform(0.85, 1.0)),
            "milestones": [], "captured_by": "bench", "captured_by_person_id": None,
            "version": 1, "created_at": at, "updated_at": at, "archived_at": None,
        })  # fmt: skip
        project.update(
            baseline_budget=baseline["planned_budget"],
            baseline_start=baseline["planned_start"],
            baseline_end=baseline["planned_end"],
        )
        end = today - dt.timedelta(days=r.randint(0, 40))
        for _ in range(REPORTS_PER_PROJECT):
            start = end - dt.timedelta(days=6)
            submitted = dt.datetime.combine(end, dt.time(17), dt.UTC)
            health = r.choices(*HEALTHS)[0]
            reports.append({
                "id": _uuid(r), "project_id": project["id"], "period_start": start,
                "period_end": end, "overall_health": health, "schedule_health": health,
                "budget_health": r.choices(*HEALTHS)[0], "scope_health": "green",
                "resources_health": "green", "summary": "On course.", "accomplishments": None,
                "next_steps": None, "state": "submitted", "submitted_by": "bench",
                "submitted_by_person_id": None, "submitted_at": submitted,
                "percent_complete": project["percent_complete"],
                "actual_cost": project["actual_cost"],
                "planned_budget": project["planned_budget"], "open_risks": 0,
                "overdue_milestones": 0, "version": 2, "created_at": submitted,
                "updated_at": submitted, "archived_at": None,
            })  # fmt: skip
            end = start - dt.timedelta(days=1)
        cents = int(project["actual_cost"] * 100)
        first, second = r.randint(0, cents), r.randint(0, cents)
        first, second = min(first, second), max(first, second)
        for amount in (first, second - first, cents - second):
            costs.append({
                "id": _uuid(r), "project_id": project["id"],
                "incurred_on": project["actual_start"] + dt.timedelta(days=r.randint(0, 30)),
                "amount": Decimal(amount) / 100, "category": "labour",
                "description": "Team time", "reference": None, "version": 1,
                "created_at": at, "updated_at": at, "archived_at": None,
            })  # fmt: skip
    objectives = [
        {
            "id": _uuid(r), "key": f"OBJ-{i:02d}", "title": f"Objective {i}",
            "description": None, "weight": r.randint(1, 10),
            "period_start": dt.date(today.year, 1, 1), "period_end": dt.date(today.year, 12, 31),
            "owner_id": r.choice(person_ids), "status": "active", "version": 1,
            "created_at": now, "updated_at": now, "archived_at": None,
        }
        for i in range(1, OBJECTIVES + 1)
    ]  # fmt: skip
    alignments = [
        {
            "id": _uuid(r), "project_id": project["id"], "objective_id": objective["id"],
            "contribution": r.randint(1, 3), "note": None, "version": 1,
            "created_at": now, "updated_at": now, "archived_at": None,
        }
        for project in projects
        if r.random() < 0.8
        for objective in r.sample(objectives, r.randint(1, 2))
    ]  # fmt: skip
    by_id = {project["id"]: project for project in projects}
    for alignment in alignments:  # every one contributes (1 to 3)
        by_id[alignment["project_id"]]["aligned_objectives"] += 1
    return {
        "baselines": baselines,
        "status_reports": reports,
        "cost_entries": costs,
        "objectives": objectives,
        "alignments": alignments,
    }


LINK_BASELINES = (
    "UPDATE projects SET baseline_id = "
    "(SELECT b.id FROM baselines b WHERE b.project_id = projects.id)"
)
"""Each project points at its baseline (loaded after the projects: the two tables refer
to each other)."""


def _rule(code: str, check: str, when: dict[str, Any], **params: Any) -> dict[str, Any]:
    return {
        "code": code,
        "title": code.replace("-", " ").capitalize(),
        "severity": "medium",
        "applies_when": when,
        "check": {"type": check, "params": params},
    }


_ACTIVE = {"status": {"in": ["active", "on_hold"]}}
POLICIES: list[tuple[str, str, list[dict[str, Any]]]] = [
    (
        "REPORTING",
        "Status reporting",
        [
            _rule("FRESH", "status_report_fresh", _ACTIVE, days=14),
            _rule("RISKS", "risks_reviewed", _ACTIVE, count=3, days=30),
            _rule("SPONSOR", "field_present", {}, field="sponsor_id"),
            _rule("CC", "field_present", {}, field="attributes.cost_center"),
        ],
    ),
    (
        "FINANCE",
        "Financial control",
        [
            _rule("VARIANCE", "budget_variance", {"budget": {"gte": 100000}}, max_percent=10),
            _rule("BASELINE", "baseline_present", {"budget": {"gte": 1000000}, **_ACTIVE}),
            _rule("VARIANCE-BIG", "budget_variance", {"budget": {"gte": 2000000}}, max_percent=5),
            _rule(
                "UNIT", "field_present", {"attributes.capex": {"eq": True}}, field="attributes.bu"
            ),
        ],
    ),
    (
        "DELIVERY",
        "Delivery discipline",
        [
            _rule("OVERDUE", "milestone_overdue", _ACTIVE, max_days=14),
            _rule("SLIP", "schedule_slip", _ACTIVE, max_days=30),
            _rule("END", "field_present", {}, field="planned_end"),
            _rule("PMP", "manager_certified", {"budget": {"gte": 500000}}, certification="PMP"),
            _rule(
                "STARTED",
                "field_present",
                {"status": {"in": ["active", "completed"]}},
                field="actual_start",
            ),
            _rule("OVERDUE-ANY", "milestone_overdue", {}, max_days=60),
            _rule("FRESH-RED", "status_report_fresh", {"health": {"eq": "red"}}, days=30),
        ],
    ),
]
"""Three policies in force, 15 rules between them, every check type: what the
compliance routes judge the 10,000 projects against."""


def _risk(r: random.Random, project: Row, person_ids: list[uuid.UUID], today: dt.date) -> Row:
    probability, impact = r.randint(1, 5), r.randint(1, 5)
    at = project["created_at"] + dt.timedelta(days=r.randint(0, 60))
    return {
        "id": _uuid(r),
        "project_id": project["id"],
        "title": f"{r.choice(WORDS)} {r.choice(['delay', 'overrun', 'outage', 'attrition'])}",
        "description": "Could slip the plan if not handled.",
        "probability": probability,
        "impact": impact,
        "score": probability * impact,
        "owner_id": r.choice(person_ids),
        "mitigation": "Weekly review with the supplier.",
        "response": r.choice(RISK_RESPONSES),
        "status": r.choices(*RISK_STATUSES)[0],
        "last_reviewed_on": today - dt.timedelta(days=r.randint(0, 120)),
        "version": 1,
        "created_at": at,
        "updated_at": at,
        "archived_at": None,
    }


# A lesson's story: sentences from these parts, the nouns drawn with Zipf-like weights
# (a few words in many lessons, most in few), so searches find hundreds or thousands.
LESSON_CATEGORIES = ["vendors", "planning", "stakeholders", "risks", "testing", "data",
                     "governance", "resourcing", "scope", "budget"]  # fmt: skip
LESSON_TAGS = ["procurement", "schedule", "migration", "go-live", "quality", "cost",
               "people", "security", "integration", "reporting", "training", "cloud"]  # fmt: skip
NOUNS = ["vendor", "contract", "steering committee", "sponsor", "budget", "schedule",
         "cutover", "migration", "data quality", "test environment", "release", "backlog",
         "architecture", "integration", "licence", "supplier", "change request", "baseline",
         "requirements", "stakeholder", "training", "rollout", "interface", "deployment",
         "forecast", "invoice", "procurement", "capacity", "dependency", "escalation",
         "handover", "warranty", "audit", "compliance", "security review", "pilot",
         "performance test", "acceptance", "go-live", "runbook", "rollback", "helpdesk",
         "licence renewal", "data owner", "cost centre", "sprint", "retrospective",
         "milestone", "critical path", "business case"]  # fmt: skip
NOUN_WEIGHTS = [1 / (rank + 1) for rank in range(len(NOUNS))]
TEAMS = ["the project team", "the vendor", "the sponsor", "operations", "the architects",
         "finance", "the business", "the testers", "the PMO", "the service desk"]  # fmt: skip
VERBS = ["delayed", "underestimated", "renegotiated", "escalated", "postponed",
         "reworked", "skipped", "rushed", "approved late", "missed", "doubled",
         "reviewed", "cancelled", "split", "handed over"]  # fmt: skip
WHEN = ["in the second month", "before the design review", "after go-live",
        "during user acceptance", "at the steering meeting", "in the last sprint",
        "over the summer", "two weeks before the cutover", "at year end"]  # fmt: skip
BECAUSE = ["nobody owned the decision", "the contract was unclear", "the budget was frozen",
           "key people left", "the estimates were optimistic", "the scope kept growing",
           "the data was not cleansed", "the environment was not ready",
           "the approvals took weeks", "the plan had no slack"]  # fmt: skip


def _sentence(r: random.Random) -> str:
    noun, other = r.choices(NOUNS, NOUN_WEIGHTS, k=2)
    return (
        f"{r.choice(TEAMS).capitalize()} {r.choice(VERBS)} the {noun} {r.choice(WHEN)} "
        f"because {r.choice(BECAUSE)}, and the {other} was affected."
    )


def _lesson(r: random.Random, project: Row) -> Row:
    at = project["created_at"] + dt.timedelta(days=r.randint(30, 400))
    noun = r.choices(NOUNS, NOUN_WEIGHTS)[0]
    return {
        "id": _uuid(r),
        "project_id": project["id"],
        "category": r.choice(LESSON_CATEGORIES),
        "title": f"{r.choice(['Plan', 'Watch', 'Own', 'Test', 'Agree'])} the {noun} early",
        "what_happened": " ".join(_sentence(r) for _ in range(r.randint(8, 12))),
        "recommendation": _sentence(r),
        "tags": r.sample(LESSON_TAGS, r.randint(1, 3)),
        "author": "bench",
        "author_person_id": None,
        "version": 1,
        "created_at": at,
        "updated_at": at,
        "archived_at": None,
    }


def _milestone(r: random.Random, project: Row, n: int, today: dt.date) -> Row:
    start, end = project["planned_start"], project["planned_end"]
    due = start + (end - start) * (n + 1) / MILESTONES_PER_PROJECT
    done = due < today and r.random() < 0.8
    status = (
        "done" if done else ("in_progress" if due - today < dt.timedelta(days=30) else "planned")
    )
    return {
        "id": _uuid(r),
        "project_id": project["id"],
        "name": MILESTONE_NAMES[n],
        "description": None,
        "due_date": due,
        "done_date": due + dt.timedelta(days=r.randint(-5, 10)) if done else None,
        "status": status,
        "version": 1,
        "created_at": project["created_at"],
        "updated_at": project["created_at"],
        "archived_at": None,
    }


AUDIT_TYPES = ["compliance_review", "health_check", "post_implementation_review"]
FINDING_STATUSES = (["open", "in_remediation", "resolved", "accepted"], [40, 20, 32, 8])
SEVERITIES = (["low", "medium", "high", "critical"], [30, 40, 22, 8])


def _audit(
    r: random.Random, project: Row, person_ids: list[uuid.UUID], today: dt.date, now: dt.datetime
) -> Row:
    started = now - dt.timedelta(days=r.randint(1, 400))
    completed = r.random() < 0.6
    return {
        "id": _uuid(r),
        "project_id": project["id"],
        "type": r.choice(AUDIT_TYPES),
        "auditor_id": r.choice(person_ids),
        "planned_on": started.date(),
        "scope": "The standards the project follows.",
        "summary": "Mostly compliant." if completed else None,
        "status": "completed" if completed else "in_progress",
        "checklist": [],
        "answers": [],
        "score": round(r.uniform(40, 100), 1) if completed else None,
        "started_at": started,
        "completed_at": started + dt.timedelta(days=r.randint(1, 20)) if completed else None,
        "version": 3 if completed else 2,
        "created_at": started,
        "updated_at": started,
        "archived_at": None,
    }


def _finding(
    r: random.Random, audit: Row, person_ids: list[uuid.UUID], today: dt.date, now: dt.datetime
) -> Row:
    status = r.choices(*FINDING_STATUSES)[0]
    raised = audit["created_at"] + dt.timedelta(days=r.randint(0, 10), seconds=r.randint(0, 86400))
    closed = status in ("resolved", "accepted")
    return {
        "id": _uuid(r),
        "audit_id": audit["id"],
        "project_id": audit["project_id"],
        "severity": r.choices(*SEVERITIES)[0],
        "rule_code": r.choice(["FRESH", "RISKS", "BASELINE", "OVERDUE", None]),
        "policy_key": None,
        "gate_phase": None,
        "description": f"The {r.choice(NOUNS)} does not follow the standard.",
        "remediation": "Fix it with the team." if status != "open" else None,
        "owner_id": r.choice(person_ids) if r.random() < 0.8 else None,
        "due_on": today + dt.timedelta(days=r.randint(-120, 90)) if r.random() < 0.9 else None,
        "status": status,
        "raised_by": "bench",
        "raised_by_person_id": None,
        "remediation_started_at": raised + dt.timedelta(days=3) if status != "open" else None,
        "closed_at": raised + dt.timedelta(days=20) if closed else None,
        "closed_by": "bench" if closed else None,
        "closed_by_person_id": None,
        "closing_note": "Done." if closed else None,
        "version": 1,
        "created_at": raised,
        "updated_at": raised,
        "archived_at": None,
    }


def _check_columns(table: Any, sample: Row) -> list[str]:
    """The columns to load; fail clearly when the schema gained a required column."""
    missing = [
        c.name
        for c in table.columns
        if c.name not in sample
        and not c.nullable
        and c.default is None
        and c.server_default is None
    ]
    if missing:
        raise SystemExit(f"seed: table {table.name} needs values for {', '.join(missing)}")
    return [c.name for c in table.columns if c.name in sample]


def migrate(database_url: str) -> None:
    env = {**os.environ, "PMO_DATABASE_URL": database_url, "PMO_LOG_LEVEL": "WARNING"}
    subprocess.run([str(PMO_API), "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)


async def seed_postgres(
    db: str, projects: int, seed: int = 42, metrics: bool = False
) -> dict[str, int]:
    import asyncpg

    from pmo_api.migrations.metadata import metadata

    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{db}" OWNER postgres')
    finally:
        await admin.close()
    dsn = ADMIN_DSN.rsplit("/", 1)[0] + "/" + db
    migrate(dsn)
    data = generate(projects, seed, metrics)
    conn = await asyncpg.connect(dsn)
    try:
        for name, rows in data.items():
            table = metadata.tables[name]
            columns = _check_columns(table, rows[0])
            records = [
                tuple(
                    orjson.dumps(row[c]).decode() if isinstance(row[c], dict | list) else row[c]
                    for c in columns
                )
                for row in rows
            ]
            await conn.copy_records_to_table(name, records=records, columns=columns)
        if "baselines" in data:
            await conn.execute(LINK_BASELINES)
        await conn.execute("VACUUM ANALYZE")
        return {name: await conn.fetchval(f"SELECT count(*) FROM {name}") for name in data}
    finally:
        await conn.close()


def seed_sqlite(path: Path, projects: int, seed: int = 42, metrics: bool = False) -> dict[str, int]:
    from sqlalchemy import create_engine, func, insert, select

    from pmo_api.migrations.metadata import metadata

    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    migrate(f"sqlite:///{path}")
    data = generate(projects, seed, metrics)
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            for name, rows in data.items():
                table = metadata.tables[name]
                columns = _check_columns(table, rows[0])
                for chunk in _chunks(rows, 5000):
                    conn.execute(insert(table), [{c: row[c] for c in columns} for row in chunk])
            if "baselines" in data:
                conn.exec_driver_sql(LINK_BASELINES)
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            return {
                name: conn.execute(
                    select(func.count()).select_from(metadata.tables[name])
                ).scalar_one()
                for name in data
            }
    finally:
        engine.dispose()


def _chunks(rows: list[Row], size: int) -> Iterator[list[Row]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--scale", choices=sorted(SCALES), default="default")
    ap.add_argument("--projects", type=int, help="override the scale's project count")
    ap.add_argument("--db", default=DEFAULT_DB, help=f"PostgreSQL database (default {DEFAULT_DB})")
    ap.add_argument("--sqlite", type=Path, help="seed this SQLite file instead of PostgreSQL")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument(
        "--metrics",
        action="store_true",
        help="the metrics benchmark's data (bench/metrics.py): a portfolio tree, baselines, "
        "status reports, costs, objectives and alignments; no lessons nor audits",
    )
    a = ap.parse_args()
    projects = a.projects or SCALES[a.scale]
    t0 = time.perf_counter()
    if a.sqlite:
        counts = seed_sqlite(a.sqlite, projects, a.seed, a.metrics)
        where = str(a.sqlite)
    else:
        counts = asyncio.run(seed_postgres(a.db, projects, a.seed, a.metrics))
        where = a.db
    print(f"seeded {where}: {counts} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
