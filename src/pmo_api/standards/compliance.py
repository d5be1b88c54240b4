"""Compliance: every rule of the policies in force, judged on projects.

One evaluation reads, whatever the number of projects: the projects in scope (one
statement), the policies in force (one), and per check type the rules use, the figures
it needs for every project at once (one each, for the checks that read beyond the
project: ``checks.py``). The verdicts are then made in memory."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)

from pmo_api.core.context import RowReads, ServiceContext
from pmo_api.core.errors import not_found
from pmo_api.db.reads import PostgresReads, Row, SessionReads
from pmo_api.portfolios.declaration import PORTFOLIOS
from pmo_api.portfolios.repository import PortfolioReads
from pmo_api.projects.declaration import PROJECTS
from pmo_api.projects.models import Project
from pmo_api.resources import service as resources
from pmo_api.standards.checks import CHECKS, Check, Outcome, Verdict, not_applicable, plain
from pmo_api.standards.models import Policy, StandardStatus
from pmo_api.standards.rules import SEVERITY_RANK, PolicyRule, applies_sql, compiled
from pmo_api.standards.schemas import (
    FailingProject,
    FailingRule,
    PortfolioCompliance,
    ProjectCompliance,
    ScopeCompliance,
)

SHOWN_PER_RULE = 100
"""Projects a failing rule lists (``failing`` counts them all)."""

_PROJECT_FIELDS = (
    Project.id,
    Project.key,
    Project.name,
    Project.portfolio_id,
    Project.status,
    Project.phase,
    Project.health,
    Project.methodology,
    Project.planned_budget,
    Project.actual_cost,
    Project.percent_complete,
    Project.priority_score,
    Project.attributes,
    Project.baseline_id,
    Project.manager_id,
    Project.sponsor_id,
    Project.description,
    Project.planned_start,
    Project.planned_end,
    Project.actual_start,
)


def _reads(ctx: ServiceContext) -> RowReads:
    """The request's reads, else its session's (a command's unit of work)."""
    return ctx.reads or SessionReads(ctx.session)


@dataclass(frozen=True)
class InForce:
    """A rule of a policy in force, its check and its params parsed."""

    policy: Row
    rule: PolicyRule
    check: Check
    params: Any
    applies: Callable[[Row], bool] | None
    """``applies_when`` made into a test (None: every project)."""
    shown: dict[str, Any]
    """What a report shows of the rule whatever its verdict (a ``RuleResult``'s first
    fields), made once: a published revision never changes."""


_IN_FORCE = (Policy.status == StandardStatus.PUBLISHED, Policy.archived_at.is_(None))

_POLICIES_TOKEN = (
    select(
        func.aggregate_strings(cast(Policy.id, String) + ":" + cast(Policy.version, String), ",")
    )
    .where(*_IN_FORCE)
    .scalar_subquery()
)
"""Which policy revisions are in force, each at which version (in no particular order:
compared as a set, ``_token``): a statement that reads it beside its own rows knows
whether the rules it was built from are still the ones in force."""

_POLICIES_IN_FORCE = (
    select(
        Policy.id,
        Policy.key,
        Policy.revision,
        Policy.version,
        Policy.rules,
        _POLICIES_TOKEN.label("policies_token"),
    )
    .where(*_IN_FORCE)
    .order_by(Policy.key)
)


async def rules_in_force(ctx: ServiceContext) -> list[InForce]:
    """The rules of every published policy revision, by policy key and rule order."""
    return (await _rules_and_token(ctx)).rules


@dataclass(frozen=True)
class RulesSeen:
    """The rules in force as last read by this process, and the token they were read
    with (``_POLICIES_TOKEN``)."""

    rules: list[InForce]
    token: frozenset[str]
    figured: tuple[tuple[str, tuple[Any, ...]], ...]
    """Each check type with figures that the rules use, with every params value."""


def _token(raw: str | None) -> frozenset[str]:
    return frozenset(raw.split(",")) if raw else frozenset()


_LATEST: list[RulesSeen] = []
"""The rules in force last read (a process reads them again when a report's statement
finds that the policies in force changed)."""


async def _rules_and_token(ctx: ServiceContext) -> RulesSeen:
    policies = await _reads(ctx).all(_POLICIES_IN_FORCE)
    rules = _parsed(policies)
    used: dict[str, list[Any]] = defaultdict(list)
    for item in rules:
        used[item.check.name].append(item.params)
    seen = RulesSeen(
        rules,
        _token(policies[0]["policies_token"] if policies else None),
        tuple((kind, tuple(params)) for kind, params in used.items() if CHECKS[kind].figures),
    )
    _LATEST[:] = [seen]
    return seen


def _parsed(policies: Sequence[Row]) -> list[InForce]:
    out = []
    for policy in policies:
        out.extend(_policy_rules(policy))
    return out


_PARSED: dict[tuple[Any, int], list[InForce]] = {}
"""A policy revision's rules parsed, by (id, version): a published revision never
changes, so each process parses it once (a draft's version moves with every change)."""


def _policy_rules(policy: Row) -> list[InForce]:
    key = (policy["id"], policy["version"])
    found = _PARSED.get(key)
    if found is not None:
        return found
    found = []
    for stored in policy["rules"]:
        rule = PolicyRule.model_validate(stored)
        check = CHECKS.get(rule.check.type)
        if check is None:  # a check removed since the policy was saved: not judged
            continue
        params = check.params.model_validate(rule.check.params)
        test = compiled(rule.applies_when) if rule.applies_when else None
        shown = {
            "policy_id": policy["id"],
            "policy_key": policy["key"],
            "policy_revision": policy["revision"],
            "rule": rule.code,
            "title": rule.title,
            "severity": rule.severity,
            "check": check.name,
        }
        found.append(InForce(policy, rule, check, params, test, shown))
    if len(_PARSED) >= 1000:
        _PARSED.clear()
    _PARSED[key] = found
    return found


Judged = list[tuple[InForce, Verdict]]
"""Each rule in force with its verdict on one project."""

_DOES_NOT_APPLY = not_applicable("The rule does not apply to this project (applies_when).")


FigureNames = list[tuple[str, list[tuple[str, str]]]]
"""Each check type and its figures in ``_one_report``'s row: (the label there, the
figure's name)."""


@functools.lru_cache(maxsize=256)
def _one_report(
    figured: tuple[tuple[str, tuple[Any, ...]], ...], today: date, by: str
) -> tuple[Any, FigureNames]:
    """What one project's report reads, in ONE statement: the project's fields, every
    check type's figures for it (each type's figures joined to the project's row), and
    which policies are in force (``_POLICIES_TOKEN``); the project named by id or by key
    (``by``, bound as ``ref``); and where each type's figures are in its row. Built once
    per rules, day and way of naming: a report then compiles nothing and makes one round
    trip."""
    column = Project.id if by == "id" else Project.key
    ref = bindparam("ref", type_=column.type)
    one = select(Project.id).where(column == ref, Project.archived_at.is_(None))
    joined: Any = Project.__table__
    columns: list[Any] = list(_PROJECT_FIELDS)
    names: FigureNames = []
    for n, (kind, params) in enumerate(figured):
        query = CHECKS[kind].figures
        assert query is not None
        figures = query(one, list(params), today).subquery(f"figures_{n}")
        joined = joined.outerjoin(figures, figures.c.project_id == Project.id)
        own = [(f"{n}__{figure.key}", figure.key) for figure in figures.c]
        columns += [figure.label(label) for figure, (label, _) in zip(figures.c, own, strict=True)]
        names.append((kind, own))
    columns.append(_POLICIES_TOKEN.label("policies_token"))
    return select(*columns).select_from(joined).where(column == ref), names


def _split_figures(
    names: FigureNames, row: Row | None, project_id: Any
) -> dict[str, dict[Any, Row]]:
    """The one row of ``_one_report`` as each check type's figures (none when the
    type's figures found nothing for the project)."""
    out: dict[str, dict[Any, Row]] = {}
    for kind, labels in names:
        own = {bare: row[labelled] for labelled, bare in labels} if row else {}
        out[kind] = {project_id: own} if own.get("project_id") is not None else {}
    return out


async def judge(
    ctx: ServiceContext, scope: ColumnElement[bool], projects: Sequence[Row]
) -> dict[uuid.UUID, Judged]:
    """Every rule in force on each project (``scope`` selects them in SQL)."""
    if not projects:
        return {}
    seen = await _rules_and_token(ctx)
    today = ctx.now.date()
    ids = select(Project.id).where(scope, Project.archived_at.is_(None))
    figures: dict[str, dict[Any, Row]] = {}
    if len(projects) == 1 and seen.figured:
        project_id = projects[0]["id"]
        stmt, names = _one_report(seen.figured, today, "id")
        row = await _reads(ctx).first(stmt, {"ref": project_id})
        figures = _split_figures(names, row, project_id)
    else:
        for kind, params in seen.figured:
            query = CHECKS[kind].figures
            assert query is not None
            rows = await _reads(ctx).all(query(ids, list(params), today))
            figures[kind] = {row["project_id"]: row for row in rows}
    plan = _plan(seen.rules, figures)
    return {project["id"]: _verdicts(plan, project, today) for project in projects}


Plan = list[tuple[InForce, Callable[[Row], bool] | None, Any, dict[Any, Row], Any]]
"""Each rule in force with what judging it takes: its applies_when test, its judge, its
check type's figures by project, its params."""


def _plan(rules: Sequence[InForce], figures: dict[str, dict[Any, Row]]) -> Plan:
    return [
        (item, item.applies, item.check.judge, figures.get(item.check.name, {}), item.params)
        for item in rules
    ]


def _verdicts(plan: Plan, project: Row, today: date) -> Judged:
    project_id = project["id"]
    verdicts: Judged = []
    for item, test, check, found, params in plan:
        if test is not None and not test(project):
            verdicts.append((item, _DOES_NOT_APPLY))
        else:
            verdicts.append((item, check(project, found.get(project_id), params, today)))
    return verdicts


def _result(item: InForce, verdict: Verdict) -> dict[str, Any]:
    """A ``RuleResult`` as JSON shows it."""
    return {
        **item.shown,
        "outcome": verdict.outcome,
        "reason": verdict.reason,
        "figures": plain(verdict.figures),
    }


def _report(ctx: ServiceContext, project: Row, judged: Judged) -> dict[str, Any]:
    """A ``ProjectCompliance`` as JSON shows it (the REST door prints it as it is)."""
    passed = sum(1 for _, v in judged if v.outcome == Outcome.PASS)
    failed = sum(1 for _, v in judged if v.outcome == Outcome.FAIL)
    return {
        "project_id": project["id"],
        "key": project["key"],
        "name": project["name"],
        "as_of": ctx.now.date(),
        "compliant": failed == 0,
        "rate": _rate(passed, passed + failed),
        "passed": passed,
        "failed": failed,
        "not_applicable": len(judged) - passed - failed,
        "rules": [_result(item, verdict) for item, verdict in judged],
    }


def _project_report(ctx: ServiceContext, project: Row, judged: Judged) -> ProjectCompliance:
    return ProjectCompliance.model_validate(_report(ctx, project, judged))


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def scoped_projects(ctx: ServiceContext, scope: ColumnElement[bool]) -> list[Row]:
    return await _reads(ctx).all(
        select(*_PROJECT_FIELDS).where(scope, Project.archived_at.is_(None)).order_by(Project.key)
    )


# -- use cases ---------------------------------------------------------------------------------


async def project_compliance(ctx: ServiceContext, ref: uuid.UUID | str) -> dict[str, Any]:
    """A project against every rule in force (404 ``project_not_found``): the
    ``ProjectCompliance`` document, as JSON shows it.

    One statement (``_one_report``) built from the rules this process last read; the
    rules are read again, and the statement run again, only when the policies it finds
    in force are not those (another process published or retired one meanwhile)."""
    resources.refuse_unless_reader(ctx, PROJECTS)
    by = "id" if isinstance(ref, uuid.UUID) else "key"
    today = ctx.now.date()
    seen = _LATEST[0] if _LATEST else await _rules_and_token(ctx)
    for _ in range(3):
        stmt, names = _one_report(seen.figured, today, by)
        row = await _reads(ctx).first(stmt, {"ref": ref})
        if row is None:
            raise not_found(PROJECTS.name, ref)
        if _token(row["policies_token"]) == seen.token:
            project = {column.key: row[column.key] for column in _PROJECT_FIELDS}
            figures = _split_figures(names, row, project["id"])
            judged = _verdicts(_plan(seen.rules, figures), project, today)
            return _report(ctx, project, judged)
        seen = await _rules_and_token(ctx)
    # The policies changed under every try: judged on what one reading of them finds.
    project = await resources.read(ctx, PROJECTS, ref)
    results = await judge(ctx, Project.id == project["id"], [project])
    return _report(ctx, project, results[project["id"]])


async def projects_compliance(
    ctx: ServiceContext, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ProjectCompliance]:
    """Several projects at once (GraphQL's loader): the same statements as one."""
    scope = Project.id.in_(list(ids))
    projects = await scoped_projects(ctx, scope)
    results = await judge(ctx, scope, projects)
    return {p["id"]: _project_report(ctx, p, results[p["id"]]) for p in projects}


async def portfolio_compliance(
    ctx: ServiceContext, ref: uuid.UUID | str, *, include_sub_portfolios: bool = True
) -> PortfolioCompliance:
    """A portfolio's projects (and its sub-portfolios', by default) against every rule
    in force, rolled up (404 ``portfolio_not_found``)."""
    portfolio = await resources.read(ctx, PORTFOLIOS, ref)
    if include_sub_portfolios:
        scope = Project.portfolio_id.in_(PortfolioReads().descendant_ids(portfolio["id"]))
    else:
        scope = Project.portfolio_id == portfolio["id"]
    rolled = await _roll_up(ctx, scope)
    return PortfolioCompliance(
        **rolled.model_dump(),
        portfolio_id=portfolio["id"],
        portfolio_key=portfolio["key"],
        portfolio_name=portfolio["name"],
        include_sub_portfolios=include_sub_portfolios,
    )


async def organisation_compliance(ctx: ServiceContext) -> ScopeCompliance:
    """Every live project against every rule in force."""
    return await _roll_up(ctx, Project.archived_at.is_(None))


_SHOWN = (Project.id, Project.key, Project.name)
"""What a roll-up shows of a project (a failing rule lists them)."""
_OUTCOME_OF = {0: Outcome.NOT_APPLICABLE, 1: Outcome.PASS, 2: Outcome.FAIL}


def _outcome_sql(item: InForce, today: date) -> ColumnElement[int]:
    """A rule judged in SQL, for a check judged from the project's own fields: 0 not
    applicable, 1 pass, 2 fail."""
    applies: Any = applies_sql(item.rule.applies_when) if item.rule.applies_when else true()
    moot: Any = item.check.moot(item.params, today) if item.check.moot else false()
    fails = item.check.fails(item.params, today)
    return case(
        (~func.coalesce(applies, false()), 0),
        (func.coalesce(moot, false()), 0),
        (func.coalesce(fails, false()), 2),
        else_=1,
    )


async def _judged_outcomes(
    ctx: ServiceContext, scope: ColumnElement[bool]
) -> tuple[list[Row], list[InForce], Callable[[Row], list[Outcome]]]:
    """A roll-up's reads: the projects in scope with, per rule, its outcome when SQL
    judges it (a check of the project's own fields) or whether it applies (``applies_when``
    in SQL); and the figures of each check type the others use. On a pool of
    connections these statements run side by side. With a function giving a project's
    outcome per rule (the checks with figures judge theirs in Python)."""
    rules = await rules_in_force(ctx)
    today = ctx.now.date()
    columns: list[Any] = list(_SHOWN)
    plan: list[tuple[str, Any, Any, dict[Any, Row], Any]] = []
    used: dict[str, list[Any]] = defaultdict(list)
    reads_fields: set[str] | None = set()
    for i, item in enumerate(rules):
        check = item.check
        if check.figures is None:
            columns.append(_outcome_sql(item, today).label(f"outcome_{i}"))
            plan.append(("sql", f"outcome_{i}", None, {}, None))
            continue
        used[check.name].append(item.params)
        applies = None
        if item.rule.applies_when:
            applies = f"applies_{i}"
            columns.append(applies_sql(item.rule.applies_when).label(applies))
        if check.reads is None:
            reads_fields = None
        elif reads_fields is not None:
            reads_fields.update(check.reads)
        plan.append(("python", applies, check.judge, {}, item.params))
    if reads_fields is None:
        columns.extend(c for c in _PROJECT_FIELDS if c not in _SHOWN)
    else:
        columns.extend(Project.__table__.c[name] for name in sorted(reads_fields))
    ids = select(Project.id).where(scope, Project.archived_at.is_(None))
    kinds = list(used)
    statements = [
        select(*columns).where(scope, Project.archived_at.is_(None)).order_by(Project.key),
        *(CHECKS[kind].figures(ids, used[kind], today) for kind in kinds),  # type: ignore[misc]
    ]
    reads = _reads(ctx)
    if isinstance(reads, PostgresReads):
        found = await asyncio.gather(*(reads.all(stmt) for stmt in statements))
    else:
        found = [await reads.all(stmt) for stmt in statements]
    projects = found[0]
    figures = {
        kind: {row["project_id"]: row for row in rows}
        for kind, rows in zip(kinds, found[1:], strict=True)
    }
    steps = [
        (way, column, judge, figures.get(item.check.name, {}), params)
        for (way, column, judge, _, params), item in zip(plan, rules, strict=True)
    ]
    not_applicable = Outcome.NOT_APPLICABLE

    def outcomes(project: Row) -> list[Outcome]:
        project_id = project["id"]
        judged = []
        for way, column, judge, per_project, params in steps:
            if way == "sql":
                judged.append(_OUTCOME_OF[project[column]])
            elif column is not None and not project[column]:
                judged.append(not_applicable)
            else:
                judged.append(judge(project, per_project.get(project_id), params, today).outcome)
        return judged

    return projects, rules, outcomes


async def _roll_up(ctx: ServiceContext, scope: ColumnElement[bool]) -> ScopeCompliance:
    projects, in_force, outcomes = await _judged_outcomes(ctx, scope)
    passed = failed = compliant = total = 0
    failing: dict[int, list[Row]] = defaultdict(list)
    rules: dict[int, InForce] = {}
    for project in projects:
        project_failed = False
        judged = outcomes(project)
        total += len(judged)
        for i, outcome in enumerate(judged):
            if outcome is Outcome.PASS:
                passed += 1
            elif outcome is Outcome.FAIL:
                failed += 1
                project_failed = True
                failing[i].append(project)
                rules[i] = in_force[i]
        compliant += not project_failed
    ranked = sorted(
        failing,
        key=lambda k: (
            -SEVERITY_RANK[rules[k].rule.severity],
            -len(failing[k]),
            rules[k].policy["key"],
            rules[k].rule.code,
        ),
    )
    return ScopeCompliance(
        as_of=ctx.now.date(),
        project_count=len(projects),
        compliant_projects=compliant,
        failing_projects=len(projects) - compliant,
        rate=_rate(passed, passed + failed),
        project_rate=_rate(compliant, len(projects)),
        passed=passed,
        failed=failed,
        not_applicable=total - passed - failed,
        failing_rules=[
            FailingRule(
                policy_id=rules[k].policy["id"],
                policy_key=rules[k].policy["key"],
                policy_revision=rules[k].policy["revision"],
                rule=rules[k].rule.code,
                title=rules[k].rule.title,
                severity=rules[k].rule.severity,
                check=rules[k].check.name,
                failing=len(failing[k]),
                projects=[
                    FailingProject(id=p["id"], key=p["key"], name=p["name"])
                    for p in failing[k][:SHOWN_PER_RULE]
                ],
            )
            for k in ranked
        ],
    )


# -- the project list's filters, in SQL --------------------------------------------------------


@dataclass(frozen=True)
class Failing:
    """A compliance filter's value made into its condition on ``projects``."""

    condition: ColumnElement[bool]


def failing_sql(item: InForce, today: date) -> ColumnElement[bool]:
    """Where ``item``'s rule fails: it applies and its check fails, in SQL."""
    fails = item.check.fails(item.params, today)
    if item.rule.applies_when:
        return and_(applies_sql(item.rule.applies_when), fails)
    return fails


async def _in_force(reads: RowReads) -> list[InForce]:
    return _parsed(await reads.all(_POLICIES_IN_FORCE))


async def prepare_compliance(reads: RowReads, wanted: Any, today: date) -> Failing:
    """``compliance=failing``: a rule in force fails; ``compliant``: none does."""
    any_failing = or_(false(), *(failing_sql(item, today) for item in await _in_force(reads)))
    if wanted == "failing":
        return Failing(any_failing)
    return Failing(not_(func.coalesce(any_failing, false())))


async def prepare_failing_rule(reads: RowReads, code: str, today: date) -> Failing:
    """``failing_rule=CODE``: the rule of that code (of any policy in force) fails."""
    rules = [item for item in await _in_force(reads) if item.rule.code == code]
    return Failing(or_(false(), *(failing_sql(item, today) for item in rules)))


def failing_condition(prepared: Failing, _today: date) -> ColumnElement[bool]:
    return prepared.condition


# -- compliance as a figure of a rollup (metrics) -------------------------------------------


@dataclass(frozen=True)
class RuleCounts:
    """Rules judged over a scope of projects: passed and failed (the rest not applicable)."""

    passed: int
    failed: int

    @property
    def rate(self) -> float | None:
        """Passed of applicable (passed or failed), 4 decimals; null when none applies."""
        return _rate(self.passed, self.passed + self.failed)


async def rule_counts(reads: RowReads, scope: ColumnElement[bool], today: date) -> RuleCounts:
    """Every rule in force judged on every live project in ``scope``, counted in one
    aggregate statement: each project's ``_counted`` outcomes, summed; no project is
    read into Python."""
    rules = await _in_force(reads)
    if not rules:
        return RuleCounts(0, 0)
    passed, failed = _counted(rules, today)
    stmt = select(
        func.coalesce(func.sum(passed), 0).label("passed"),
        func.coalesce(func.sum(failed), 0).label("failed"),
    ).where(scope, Project.archived_at.is_(None))
    row = await reads.first(stmt)
    assert row is not None  # an aggregate has its row
    return RuleCounts(int(row["passed"]), int(row["failed"]))


async def rule_count_columns(
    reads: RowReads, today: date
) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """A project's rules passed and failed, as two SQL expressions on its row (0 and 0
    when no policy is in force): what a snapshot keeps of its compliance."""
    return _counted(await _in_force(reads), today)


def _counted(
    rules: Sequence[InForce], today: date
) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """On a project's row: how many of ``rules`` it passes and fails, each rule judged
    in SQL (``_outcome_sql``: a check with figures by its correlated subquery)."""
    outcomes = [_outcome_sql(item, today) for item in rules]

    def counted(outcome: int) -> Any:
        total: Any = literal(0)
        for judged in outcomes:
            total = total + case((judged == outcome, 1), else_=0)
        return total

    return counted(1), counted(2)
