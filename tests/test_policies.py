"""Policies and compliance (``standards/``): versioned policies whose rules the service
checks, refused on save with the exact place of an error, and the compliance of a
project, a portfolio (with its sub-portfolios) and the organisation, over REST and
GraphQL on both databases.

The session's database is shared: each test's rules apply only to its own projects
(``applies_when`` on an attribute only they carry), so rules published by other tests
are "not applicable" to them and leave their passes and failures alone."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from pmo_api.standards import compliance
from pmo_api.standards.checks import CHECKS
from tests.conftest import Api, new_key
from tests.test_raid import audit, data, ok
from tests.test_rest_conventions import assert_problem

POLICIES = "/api/v1/standards/policies"
TODAY = date.today()


def _case() -> str:
    return uuid.uuid4().hex[:12]


def _rule(
    code: str, check: str, case: str, severity: str = "medium", **params: Any
) -> dict[str, Any]:
    return {
        "code": code,
        "title": f"Rule {code}",
        "severity": severity,
        "applies_when": {"attributes.case": {"eq": case}},
        "check": {"type": check, "params": params},
    }


def _policy(rules: list[dict[str, Any]], key: str | None = None) -> dict[str, Any]:
    return {
        "key": key or new_key("PO"),
        "title": "Project controls",
        "text": "Do it.",
        "rules": rules,
    }


async def _published(api: Api, rules: list[dict[str, Any]]) -> dict[str, Any]:
    draft = await ok(await api.post(POLICIES, "pmo", json=_policy(rules)), 201)
    return await ok(await api.post(f"{POLICIES}/{draft['id']}/publish", "pmo"))


def _by_rule(report: dict[str, Any], policy_key: str) -> dict[str, dict[str, Any]]:
    return {r["rule"]: r for r in report["rules"] if r["policy_key"] == policy_key}


async def _lists_agree_with_reports(api: Api, portfolio: dict[str, Any], policy_key: str) -> None:
    """The project list's SQL filters (``compliance``, ``failing_rule``) find exactly the
    projects the reports judge failing, rule by rule."""
    listed = await ok(
        await api.get("/api/v1/projects", params={"portfolio_id": portfolio["id"], "limit": 200})
    )
    failing: dict[str, set[str]] = {}
    any_failing: set[str] = set()
    totals = {"passed": 0, "failed": 0, "not_applicable": 0}
    rolled = await ok(await api.get(f"/api/v1/portfolios/{portfolio['id']}/compliance"))
    for project in listed["items"]:
        report = await ok(await api.get(f"/api/v1/projects/{project['id']}/compliance"))
        for name in totals:
            totals[name] += report[name]
        for code, verdict in _by_rule(report, policy_key).items():
            failing.setdefault(code, set())
            if verdict["outcome"] == "fail":
                failing[code].add(project["id"])
        if not report["compliant"]:
            any_failing.add(project["id"])

    async def ids(**params: Any) -> set[str]:
        page = await ok(
            await api.get(
                "/api/v1/projects",
                params={"portfolio_id": portfolio["id"], "limit": 200, **params},
            )
        )
        return {p["id"] for p in page["items"]}

    assert failing, "the policy's rules were judged"
    # The roll-up (rules of the projects' own fields judged in SQL) adds up the reports.
    assert {name: rolled[name] for name in totals} == totals
    assert rolled["failing_projects"] == len(any_failing)
    for code, expected in failing.items():
        assert await ids(failing_rule=code) == expected, code
    assert await ids(compliance="failing") == any_failing
    everyone = {p["id"] for p in listed["items"]}
    assert await ids(compliance="compliant") == everyone - any_failing


# --- versioning --------------------------------------------------------------------------------


async def test_a_policy_is_versioned_and_a_published_revision_never_changes(api: Api) -> None:
    case = _case()
    key = new_key("PV")
    first = await ok(
        await api.post(
            POLICIES, "pmo", json=_policy([_rule("BASE", "baseline_present", case)], key)
        ),
        201,
    )
    assert (first["revision"], first["status"], first["published_at"]) == (1, "draft", None)
    path = f"{POLICIES}/{first['id']}"
    edited = await ok(await api.patch(path, "pmo", json={"title": "Baselines"}))
    assert edited["title"] == "Baselines" and edited["version"] == 2

    published = await ok(await api.post(f"{path}/publish", "pmo", headers={"If-Match": '"2"'}))
    assert published["status"] == "published" and published["published_at"] is not None
    assert_problem(await api.patch(path, json={"title": "Changed"}), 409, "standard_not_draft")
    assert_problem(await api.delete(path), 409, "standard_not_draft")
    assert_problem(await api.post(f"{path}/publish"), 409, "standard_not_draft")
    assert (await ok(await api.get(path)))["title"] == "Baselines"

    second = await ok(
        await api.post(
            POLICIES, "pmo", json=_policy([_rule("BASE", "baseline_present", case)], key)
        ),
        201,
    )
    assert second["revision"] == 2 and second["status"] == "draft"
    # The new draft does not change what is in force until it is published.
    assert (await ok(await api.get(path)))["status"] == "published"
    await ok(await api.post(f"{POLICIES}/{second['id']}/publish", "admin"))
    assert (await ok(await api.get(path)))["status"] == "retired"
    listed = await ok(await api.get(POLICIES, params={"policy_key": key, "sort": "revision"}))
    assert [(p["revision"], p["status"]) for p in listed["items"]] == [
        (1, "retired"),
        (2, "published"),
    ]
    retired = await ok(await api.post(f"{POLICIES}/{second['id']}/retire", "pmo"))
    assert retired["status"] == "retired" and retired["retired_at"] is not None
    assert_problem(
        await api.post(f"{POLICIES}/{second['id']}/retire"), 409, "standard_not_published"
    )
    assert [e["action"] for e in await audit(api, first["id"])] == [
        "policy.created",
        "policy.updated",
        "policy.published",
        "policy.retired",
    ]


async def test_only_pmo_and_admin_write_policies_and_everyone_reads_them(api: Api) -> None:
    body = _policy([_rule("BASE", "baseline_present", _case())])
    for role in ("manager", "viewer"):
        assert_problem(await api.post(POLICIES, role, json=body), 403, "role_forbidden")
    draft = await ok(await api.post(POLICIES, "admin", json=body), 201)
    for role in ("manager", "viewer"):
        assert (await ok(await api.get(f"{POLICIES}/{draft['id']}", role)))["id"] == draft["id"]
        assert_problem(
            await api.post(f"{POLICIES}/{draft['id']}/publish", role), 403, "role_forbidden"
        )


async def test_a_draft_is_discarded_and_a_key_keeps_counting(api: Api) -> None:
    key = new_key("PD")
    draft = await ok(
        await api.post(POLICIES, json=_policy([_rule("BASE", "baseline_present", _case())], key)),
        201,
    )
    discarded = await ok(await api.delete(f"{POLICIES}/{draft['id']}"))
    assert discarded["archived_at"] is not None
    assert_problem(await api.post(f"{POLICIES}/{draft['id']}/publish"), 409, "standard_discarded")
    again = await ok(
        await api.post(POLICIES, json=_policy([_rule("BASE", "baseline_present", _case())], key)),
        201,
    )
    assert again["revision"] == 2


# --- bad policies ------------------------------------------------------------------------------


async def test_bad_policies_are_refused_with_the_place_of_each_error(api: Api) -> None:
    case = _case()
    before = await api.table_counts()
    cases: list[tuple[dict[str, Any], list[Any]]] = [
        (_rule("BAD", "no_such_check", case), ["body", "rules", 0, "check", "type"]),
        (
            _rule("BAD", "status_report_fresh", case),
            ["body", "rules", 0, "check", "params", "days"],
        ),
        (
            _rule("BAD", "status_report_fresh", case, days="ten"),
            ["body", "rules", 0, "check", "params", "days"],
        ),
        (
            _rule("BAD", "status_report_fresh", case, days=14, weeks=2),
            ["body", "rules", 0, "check", "params", "weeks"],
        ),
        (
            _rule("BAD", "risks_reviewed", case, count=0, days=30),
            ["body", "rules", 0, "check", "params", "count"],
        ),
        (
            _rule("BAD", "field_present", case, field="colour"),
            ["body", "rules", 0, "check", "params", "field"],
        ),
        (
            {**_rule("BAD", "baseline_present", case), "applies_when": {"bogus": {"eq": 1}}},
            ["body", "rules", 0, "applies_when", "bogus"],
        ),
        (
            {**_rule("BAD", "baseline_present", case), "applies_when": {"budget": {"about": 1}}},
            ["body", "rules", 0, "applies_when", "budget", "about"],
        ),
        (
            {**_rule("BAD", "baseline_present", case), "applies_when": {"budget": {"gt": "big"}}},
            ["body", "rules", 0, "applies_when", "budget", "gt"],
        ),
        (
            {**_rule("BAD", "baseline_present", case), "applies_when": {"phase": {"gt": "Build"}}},
            ["body", "rules", 0, "applies_when", "phase", "gt"],
        ),
        (
            {**_rule("BAD", "baseline_present", case), "applies_when": {"status": {"in": []}}},
            ["body", "rules", 0, "applies_when", "status", "in"],
        ),
        (
            {**_rule("BAD", "baseline_present", case), "applies_when": {"budget": {"gt": 10**20}}},
            ["body", "rules", 0, "applies_when", "budget", "gt"],
        ),
        (
            {
                **_rule("BAD", "baseline_present", case),
                "applies_when": {"attributes.tier": {"in": [1, 10**400]}},
            },
            ["body", "rules", 0, "applies_when", "attributes.tier", "in"],
        ),
    ]
    for rule, place in cases:
        response = await api.post(
            POLICIES, json=_policy([_rule("OK", "baseline_present", case), rule])
        )
        place = [*place[:2], 1, *place[3:]]  # the bad rule is the second
        problem = assert_problem(response, 422, "invalid_policy")
        assert place in [e["loc"] for e in problem["errors"]], (rule, problem)
    twice = await api.post(
        POLICIES,
        json=_policy(
            [_rule("SAME", "baseline_present", case), _rule("SAME", "baseline_present", case)]
        ),
    )
    problem = assert_problem(twice, 422, "duplicate_rule_code")
    assert ["body", "rules", 1, "code"] in [e["loc"] for e in problem["errors"]]
    # A rule's own shape is checked by the schema: a code that is not a code.
    bad_code = await api.post(
        POLICIES, json=_policy([_rule("lower case", "baseline_present", case)])
    )
    assert_problem(bad_code, 422)
    assert await api.table_counts() == before

    draft = await ok(
        await api.post(POLICIES, json=_policy([_rule("OK", "baseline_present", case)])), 201
    )
    refused = await api.patch(
        f"{POLICIES}/{draft['id']}", json={"rules": [_rule("BAD", "no_such_check", case)]}
    )
    assert_problem(refused, 422, "invalid_policy")
    # A bad body is refused for itself, ahead of a stale If-Match or an unknown id.
    stale = await api.patch(
        f"{POLICIES}/{draft['id']}",
        json={"rules": [_rule("BAD", "no_such_check", case)]},
        headers={"If-Match": '"99"'},
    )
    assert_problem(stale, 422, "invalid_policy")
    unknown = await api.patch(
        f"{POLICIES}/{uuid.uuid4()}", json={"rules": [_rule("BAD", "no_such_check", case)]}
    )
    assert_problem(unknown, 422, "invalid_policy")
    assert (await ok(await api.get(f"{POLICIES}/{draft['id']}")))["version"] == 1


# --- each check ---------------------------------------------------------------------------------


async def _baseline(api: Api, project: dict[str, Any]) -> None:
    await ok(
        await api.post(f"/api/v1/projects/{project['id']}/baselines", json={"name": "Plan"}), 201
    )


async def _report(api: Api, project: dict[str, Any], period_end: date) -> None:
    report = await ok(
        await api.post(
            f"/api/v1/projects/{project['id']}/status-reports",
            json={
                "period_start": str(period_end - timedelta(days=6)),
                "period_end": str(period_end),
                "overall_health": "green",
            },
        ),
        201,
    )
    await ok(await api.post(f"/api/v1/status-reports/{report['id']}/submit"))


async def _risk(api: Api, project: dict[str, Any], reviewed: date | None) -> None:
    await ok(
        await api.post(
            f"/api/v1/projects/{project['id']}/risks",
            json={
                "title": "A risk",
                "probability": 3,
                "impact": 3,
                "last_reviewed_on": None if reviewed is None else str(reviewed),
            },
        ),
        201,
    )


async def _cost(api: Api, project: dict[str, Any], amount: str) -> None:
    await ok(
        await api.post(
            f"/api/v1/projects/{project['id']}/costs",
            json={
                "incurred_on": str(TODAY),
                "amount": amount,
                "category": "services",
                "description": "Work",
            },
        ),
        201,
    )


async def _milestone(api: Api, project: dict[str, Any], due: date) -> None:
    await ok(
        await api.post(
            f"/api/v1/projects/{project['id']}/milestones",
            json={"name": "A milestone", "due_date": str(due)},
        ),
        201,
    )


async def test_every_check_passes_fails_or_does_not_apply(api: Api) -> None:
    case = _case()
    portfolio = await api.make_portfolio()
    sponsor = await api.make_person()
    start = TODAY - timedelta(days=100)
    common = {"attributes": {"case": case}, "planned_start": str(start)}
    good = await api.make_project(
        portfolio["id"],
        **common,
        sponsor_id=sponsor["id"],
        planned_budget="10000.00",
        planned_end=str(TODAY + timedelta(days=60)),
    )
    bad = await api.make_project(
        portfolio["id"],
        **common,
        planned_budget="10000.00",
        planned_end=str(TODAY + timedelta(days=60)),
    )
    # Outside every rule: budget 0 (applies_when asks for a budget) and another case.
    other = await api.make_project(portfolio["id"], attributes={"case": "elsewhere"})

    await _baseline(api, good)
    await _baseline(api, bad)
    # good: on plan; bad: its end moved 30 days after the baseline's, and overspent.
    await ok(
        await api.patch(
            f"/api/v1/projects/{bad['id']}", json={"planned_end": str(TODAY + timedelta(days=90))}
        )
    )
    await _cost(api, bad, "13000.00")
    await _cost(api, good, "10400.00")
    await _report(api, good, TODAY - timedelta(days=3))
    await _report(api, bad, TODAY - timedelta(days=40))
    await _risk(api, good, TODAY - timedelta(days=5))
    await _risk(api, good, TODAY - timedelta(days=10))
    await _risk(api, bad, TODAY - timedelta(days=90))
    await _risk(api, bad, None)
    await _milestone(api, good, TODAY + timedelta(days=10))
    await _milestone(api, good, TODAY - timedelta(days=2))
    await _milestone(api, bad, TODAY - timedelta(days=20))

    rules = [
        _rule("FRESH", "status_report_fresh", case, "high", days=14),
        _rule("BASE", "baseline_present", case),
        _rule("SPONSOR", "field_present", case, field="sponsor_id"),
        _rule("CC", "field_present", case, field="attributes.case"),
        _rule("REVIEWED", "risks_reviewed", case, count=2, days=30),
        _rule("VARIANCE", "budget_variance", case, max_percent=5),
        _rule("SLIP", "schedule_slip", case, max_days=14),
        _rule("OVERDUE", "milestone_overdue", case, "critical", max_days=7),
    ]
    for rule in rules:
        rule["applies_when"]["budget"] = {"gt": 0}
    policy = await _published(api, rules)

    good_report = await ok(await api.get(f"/api/v1/projects/{good['id']}/compliance", "viewer"))
    verdicts = _by_rule(good_report, policy["key"])
    assert {code: r["outcome"] for code, r in verdicts.items()} == {
        code: "pass"
        for code in ("FRESH", "BASE", "SPONSOR", "CC", "REVIEWED", "VARIANCE", "SLIP", "OVERDUE")
    }, verdicts
    assert verdicts["FRESH"]["figures"]["age_days"] == 3
    assert verdicts["VARIANCE"]["figures"]["overrun_percent"] == 4.0
    assert verdicts["OVERDUE"]["figures"]["days_overdue"] == 2

    bad_report = await ok(await api.get(f"/api/v1/projects/{bad['key']}/compliance"))
    verdicts = _by_rule(bad_report, policy["key"])
    assert {code: r["outcome"] for code, r in verdicts.items()} == {
        "FRESH": "fail",
        "BASE": "pass",
        "SPONSOR": "fail",
        "CC": "pass",
        "REVIEWED": "fail",
        "VARIANCE": "fail",
        "SLIP": "fail",
        "OVERDUE": "fail",
    }, verdicts
    assert verdicts["FRESH"]["figures"]["age_days"] == 40
    assert "40 days old" in verdicts["FRESH"]["reason"]
    assert verdicts["REVIEWED"]["figures"] == {
        "open_risks": 2,
        "reviewed": 0,
        "required": 2,
        "days": 30,
    }
    assert verdicts["VARIANCE"]["figures"]["overrun_percent"] == 30.0
    assert verdicts["SLIP"]["figures"]["slip_days"] == 30
    assert verdicts["OVERDUE"]["figures"]["days_overdue"] == 20
    assert bad_report["compliant"] is False

    elsewhere = await ok(await api.get(f"/api/v1/projects/{other['id']}/compliance"))
    assert {r["outcome"] for r in _by_rule(elsewhere, policy["key"]).values()} == {"not_applicable"}

    # A check that has nothing to judge does not apply (no open risks, no baseline end).
    bare = await api.make_project(portfolio["id"], **common, planned_budget="100.00")
    verdicts = _by_rule(
        await ok(await api.get(f"/api/v1/projects/{bare['id']}/compliance")), policy["key"]
    )
    assert verdicts["REVIEWED"]["outcome"] == "not_applicable"
    assert verdicts["SLIP"]["outcome"] == "not_applicable"
    assert verdicts["BASE"]["outcome"] == "fail"
    assert verdicts["FRESH"]["reason"] == "No status report has been submitted."

    await _lists_agree_with_reports(api, portfolio, policy["key"])
    # Retired, the policy no longer counts.
    await ok(await api.post(f"{POLICIES}/{policy['id']}/retire"))
    after = await ok(await api.get(f"/api/v1/projects/{bad['id']}/compliance"))
    assert _by_rule(after, policy["key"]) == {}


async def test_applies_when_reads_the_same_in_sql_as_in_the_reports(api: Api) -> None:
    case = _case()
    portfolio = await api.make_portfolio()
    for attributes, fields in (
        ({"tier": 1, "capex": True, "region": "emea"}, {"planned_budget": "150000.50"}),
        ({"tier": 2, "capex": False, "region": "apac"}, {"phase": "build"}),
        ({"tier": "1", "capex": 1}, {"health": "red"}),
        ({"tier": 3.5, "region": ""}, {"status": "active"}),
        ({}, {}),
    ):
        await api.make_project(portfolio["id"], attributes={"case": case, **attributes}, **fields)
    conditions = [
        {"attributes.tier": {"eq": 1}},
        {"attributes.tier": {"ne": 1}},
        {"attributes.tier": {"gte": 2}},
        {"attributes.tier": {"in": [1, "1"]}},
        {"attributes.capex": {"eq": True}},
        {"attributes.capex": {"ne": False}},
        {"attributes.region": {"in": ["emea", ""]}},
        {"budget": {"gt": 150000.5}},
        {"budget": {"gte": 150000.5}},
        {"phase": {"ne": "build"}},
        {"health": {"in": ["red", "amber"]}},
        {"status": {"eq": "active"}},
        {"portfolio": {"eq": portfolio["id"]}},
        {"priority_score": {"lt": 10**15}},
        {"budget": {"gt": -1e15}},
    ]
    rules = []
    for i, condition in enumerate(conditions):
        rule = _rule(f"WHEN-{i}", "baseline_present", case)
        rule["applies_when"].update(condition)
        rules.append(rule)
    policy = await _published(api, rules)
    await _lists_agree_with_reports(api, portfolio, policy["key"])


async def test_manager_certified_reads_the_managers_certifications(api: Api) -> None:
    case = _case()
    portfolio = await api.make_portfolio()
    holder = await api.make_person()
    lapsed = await api.make_person()
    lacking = await api.make_person()
    held = {
        holder["id"]: [
            {"name": "PMP", "issuer": "PMI", "expires_on": str(TODAY + timedelta(days=30))},
            {"name": "PMP", "expires_on": str(TODAY - timedelta(days=400))},
        ],
        lapsed["id"]: [{"name": "PMP", "expires_on": str(TODAY - timedelta(days=1))}],
        lacking["id"]: [{"name": "PRINCE2"}],
    }
    for person_id, certifications in held.items():
        for certification in certifications:
            path = f"/api/v1/people/{person_id}/certifications"
            await ok(await api.post(path, "pmo", json=certification), 201)
    # An archived certification is not held.
    archived = await ok(
        await api.post(f"/api/v1/people/{lacking['id']}/certifications", json={"name": "PMP"}),
        201,
    )
    await ok(await api.delete(f"/api/v1/certifications/{archived['id']}"))
    common = {"attributes": {"case": case}}
    projects = {
        "holder": await api.make_project(portfolio["id"], **common, manager_id=holder["id"]),
        "lapsed": await api.make_project(portfolio["id"], **common, manager_id=lapsed["id"]),
        "lacking": await api.make_project(portfolio["id"], **common, manager_id=lacking["id"]),
        "none": await api.make_project(portfolio["id"], **common),
        "elsewhere": await api.make_project(portfolio["id"], manager_id=lacking["id"]),
    }
    policy = await _published(
        api, [_rule("PMP", "manager_certified", case, "high", certification="PMP")]
    )
    outcomes = {}
    for name, project in projects.items():
        report = await ok(await api.get(f"/api/v1/projects/{project['id']}/compliance"))
        outcomes[name] = _by_rule(report, policy["key"])["PMP"]
    assert {name: v["outcome"] for name, v in outcomes.items()} == {
        "holder": "pass",
        "lapsed": "fail",
        "lacking": "fail",
        "none": "fail",
        "elsewhere": "not_applicable",
    }
    assert outcomes["lapsed"]["figures"]["expires_on"] == str(TODAY - timedelta(days=1))
    assert "expired" in outcomes["lapsed"]["reason"]
    assert outcomes["lacking"]["reason"] == "The manager does not hold PMP."
    assert outcomes["none"]["reason"] == "The project names no manager."
    await _lists_agree_with_reports(api, portfolio, policy["key"])
    bad = await api.post(
        POLICIES, json=_policy([_rule("PMP", "manager_certified", case, certification="")])
    )
    assert_problem(bad, 422, "invalid_policy")
    assert bad.json()["errors"][0]["loc"] == [
        "body",
        "rules",
        0,
        "check",
        "params",
        "certification",
    ]


# --- roll-ups ------------------------------------------------------------------------------------


async def test_portfolio_compliance_rolls_up_and_ranks_the_failing_rules(api: Api) -> None:
    case = _case()
    top = await api.make_portfolio()
    nested = await api.make_portfolio(parent_id=top["id"])
    sponsor = await api.make_person()
    attrs = {"attributes": {"case": case}}
    fine = await api.make_project(top["id"], **attrs, sponsor_id=sponsor["id"], description="Ok")
    no_sponsor = await api.make_project(top["id"], **attrs, description="Ok")
    below = await api.make_project(nested["id"], **attrs)
    policy = await _published(
        api,
        [
            _rule("SPONSOR", "field_present", case, "low", field="sponsor_id"),
            _rule("DESC", "field_present", case, "critical", field="description"),
        ],
    )
    report = await ok(await api.get(f"/api/v1/portfolios/{top['key']}/compliance"))
    assert report["portfolio_id"] == top["id"] and report["include_sub_portfolios"] is True
    assert report["project_count"] == 3
    assert (report["passed"], report["failed"]) == (3, 3)
    assert report["rate"] == 0.5 and report["compliant_projects"] == 1
    ranked = [(r["policy_key"], r["rule"], r["failing"]) for r in report["failing_rules"]]
    assert ranked == [(policy["key"], "DESC", 1), (policy["key"], "SPONSOR", 2)]
    assert [p["id"] for p in report["failing_rules"][1]["projects"]] == sorted(
        [no_sponsor["id"], below["id"]],
        key=lambda i: next(p["key"] for p in (no_sponsor, below) if p["id"] == i),
    )
    alone = await ok(
        await api.get(
            f"/api/v1/portfolios/{top['id']}/compliance", params={"include_sub_portfolios": "false"}
        )
    )
    assert alone["project_count"] == 2 and alone["failed"] == 1
    assert fine["id"] not in [p["id"] for r in alone["failing_rules"] for p in r["projects"]]

    everything = await ok(await api.get("/api/v1/compliance", "viewer"))
    mine = [r for r in everything["failing_rules"] if r["policy_key"] == policy["key"]]
    assert [(r["rule"], r["failing"]) for r in mine] == [("DESC", 1), ("SPONSOR", 2)]
    assert everything["project_count"] >= 3

    assert_problem(await api.get(f"/api/v1/portfolios/{uuid.uuid4()}/compliance"), 404)
    assert_problem(await api.get(f"/api/v1/projects/{uuid.uuid4()}/compliance"), 404)
    assert_problem(await api.get("/api/v1/compliance", params={"bogus": "1"}), 422)


async def test_a_portfolio_compliance_costs_the_same_statements_whatever_its_size(
    api: Api,
) -> None:
    case = _case()
    await _published(
        api,
        [
            _rule("FRESH", "status_report_fresh", case, days=14),
            _rule("FRESH2", "status_report_fresh", case, days=30),
            _rule("REVIEWED", "risks_reviewed", case, count=1, days=30),
            _rule("BASE", "baseline_present", case),
        ],
    )
    counts = []
    for size in (2, 12):
        portfolio = await api.make_portfolio()
        for _ in range(size):
            project = await api.make_project(portfolio["id"], attributes={"case": case})
            await _risk(api, project, TODAY)
        with api.count_statements(cold_auth=False) as counter:
            report = await ok(await api.get(f"/api/v1/portfolios/{portfolio['id']}/compliance"))
        assert report["project_count"] == size
        counts.append(counter.count)
    # A project's report: the project, every check type's figures and which policies
    # are in force in one statement, whatever the number of rules, once the process has
    # read the rules in force (the reports above did).
    one = await api.make_project(portfolio["id"], attributes={"case": case})
    with api.count_statements(cold_auth=False) as counter:
        await ok(await api.get(f"/api/v1/projects/{one['id']}/compliance"))
    assert counter.count == 1, counter.statements
    # the portfolio, its projects, the policies in force, and at most one per check type
    # with figures that the rules in force use (other tests publish rules too)
    with_figures = sum(1 for check in CHECKS.values() if check.figures is not None)
    assert counts[0] == counts[1] <= 3 + with_figures, counts


async def test_a_project_report_follows_the_policies_in_force_as_they_change(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report reuses the rules the process last read only while the same policy
    revisions are in force: one published or retired meanwhile (here or by another
    process on the same database) costs the report two more statements and shows."""
    case = _case()
    project = await api.make_project(attributes={"case": case})
    path = f"/api/v1/projects/{project['id']}/compliance"
    first = await _published(api, [_rule("BASE", "baseline_present", case)])
    assert set(_by_rule(await ok(await api.get(path)), first["key"])) == {"BASE"}
    second = await _published(api, [_rule("NAMED", "field_present", case, field="phase")])
    with api.count_statements(cold_auth=False) as counter:
        report = await ok(await api.get(path))
    assert counter.count == 3, counter.statements  # stale: the policies, the report again
    assert _by_rule(report, second["key"])["NAMED"]["outcome"] == "fail"
    with api.count_statements(cold_auth=False) as counter:
        again = await ok(await api.get(f"/api/v1/projects/{project['key']}/compliance"))
    assert counter.count == 1 and again == report  # by key: the same report
    await ok(await api.post(f"{POLICIES}/{first['id']}/retire", "pmo"))
    retired = await ok(await api.get(path))
    assert _by_rule(retired, first["key"]) == {} and _by_rule(retired, second["key"])
    # Policies that change under every try: judged all the same, on one reading of them.
    monkeypatch.setattr(compliance, "_token", lambda raw: frozenset({object()}))
    assert await ok(await api.get(path)) == retired


# --- GraphQL -----------------------------------------------------------------------------------


async def test_a_rule_on_a_status_no_project_can_have_applies_to_none(api: Api) -> None:
    """applies_when on a health or status outside the enum (odd text included) is a
    condition that never holds: every report, roll-up and list filter answers."""
    case = _case()
    project = await api.make_project(attributes={"case": case})
    odd = {"attributes.case": {"eq": case}, "health": {"eq": "ÐìÐ purple"}}
    rule = {**_rule("ODD", "baseline_present", case), "applies_when": odd}
    either = {**_rule("ODDIN", "baseline_present", case)}
    either["applies_when"] = {"attributes.case": {"eq": case}, "status": {"in": ["x", "active"]}}
    policy = await _published(api, [rule, either])
    report = await ok(await api.get(f"/api/v1/projects/{project['id']}/compliance"))
    assert _by_rule(report, policy["key"])["ODD"]["outcome"] == "not_applicable"
    await ok(await api.get("/api/v1/compliance"))
    await ok(await api.get(f"/api/v1/portfolios/{project['portfolio_id']}/compliance"))
    listed = await ok(await api.get("/api/v1/projects", params={"failing_rule": "ODD"}))
    assert project["id"] not in {p["id"] for p in listed["items"]}
    await ok(await api.get("/api/v1/projects", params={"compliance": "failing"}))
    body = await api.gql(
        "{ compliance { notApplicable } projects(filter: {compliance: FAILING}) "
        "{ edges { cursor } } }"
    )
    assert "errors" not in body, body


async def test_policies_and_compliance_over_graphql(api: Api) -> None:
    case = _case()
    key = new_key("PG")
    portfolio = await api.make_portfolio()
    project = await api.make_project(portfolio["id"], attributes={"case": case})
    created = data(
        await api.gql(
            """mutation($input: CreatePolicyInput!) { createPolicy(input: $input) {
                 __typename ... on PolicyPayload { policy { id uuid revision status rules {
                   code severity check { type params } appliesWhen } } } } }""",
            {
                "input": {
                    "key": key,
                    "title": "Baselines",
                    "rules": [
                        {
                            "code": "BASE",
                            "title": "Baseline",
                            "severity": "HIGH",
                            "appliesWhen": {"attributes.case": {"eq": case}},
                            "check": {"type": "baseline_present", "params": {}},
                        }
                    ],
                }
            },
        )
    )["createPolicy"]
    policy = created["policy"]
    assert policy["revision"] == 1 and policy["status"] == "DRAFT"
    assert policy["rules"][0]["check"]["type"] == "baseline_present"
    published = data(
        await api.gql(
            """mutation($id: ID!) { publishPolicy(id: $id) { __typename
                 ... on PolicyPayload { policy { status publishedAt } } } }""",
            {"id": policy["id"]},
        )
    )["publishPolicy"]
    assert published["policy"]["status"] == "PUBLISHED"
    refused = data(
        await api.gql(
            """mutation($id: ID!) { publishPolicy(id: $id) { __typename
                 ... on ConflictError { code } } }""",
            {"id": policy["id"]},
        )
    )["publishPolicy"]
    assert refused == {"__typename": "ConflictError", "code": "standard_not_draft"}

    shown = data(
        await api.gql(
            """query($pf: String!) { portfolio(idOrKey: $pf) {
                 compliance { projectCount failed failingRules { rule failing projects { key } } }
                 projects(first: 10) { edges { node { key compliance { compliant
                   rules { policyKey rule outcome reason } } } } } } }""",
            {"pf": portfolio["key"]},
        )
    )["portfolio"]
    assert {"rule": "BASE", "failing": 1, "projects": [{"key": project["key"]}]} in shown[
        "compliance"
    ]["failingRules"]
    (edge,) = shown["projects"]["edges"]
    (verdict,) = [r for r in edge["node"]["compliance"]["rules"] if r["policyKey"] == key]
    assert verdict == {
        "policyKey": key,
        "rule": "BASE",
        "outcome": "FAIL",
        "reason": "The project has no baseline.",
    }
    assert edge["node"]["compliance"]["compliant"] is False
    org = data(await api.gql("{ compliance { projectCount rate } }", role="viewer"))["compliance"]
    assert org["projectCount"] >= 1
    passing = await api.make_project(portfolio["id"], attributes={"case": case})
    await ok(await api.post(f"/api/v1/projects/{passing['id']}/baselines", json={"name": "B"}), 201)
    filtered = data(
        await api.gql(
            """query($pf: ID!, $key: String!) {
                 failing: projects(filter: {portfolioId: $pf, compliance: FAILING}) {
                   nodes { key } }
                 base: projects(filter: {portfolioId: $pf, failingRule: "BASE"}) { nodes { key } }
                 fine: projects(filter: {portfolioId: $pf, compliance: COMPLIANT}) {
                   nodes { key } }
                 everywhere: projects(first: 5, filter: {compliance: FAILING}) {
                   nodes { key } }
                 nested: portfolio(idOrKey: $key) {
                   projects(filter: {compliance: FAILING}) { nodes { key } } } }""",
            {"pf": portfolio["id"], "key": portfolio["key"]},
        )
    )
    assert filtered["failing"]["nodes"] == [{"key": project["key"]}]
    assert filtered["base"]["nodes"] == [{"key": project["key"]}]
    assert filtered["fine"]["nodes"] == [{"key": passing["key"]}]
    assert len(filtered["everywhere"]["nodes"]) >= 1
    assert filtered["nested"]["projects"]["nodes"] == [{"key": project["key"]}]


# --- standards as documents ----------------------------------------------------------------------


async def test_put_holds_a_policy_document_under_its_key_idempotently(api: Api) -> None:
    key = new_key("PP")
    document = {"title": "Control", "rules": [_rule("BASE", "baseline_present", _case())]}
    path = f"{POLICIES}/{key}"
    created = await api.put(path, "pmo", json=document)
    first = await ok(created, 201)
    assert created.headers["location"] == f"{POLICIES}/{first['id']}"
    assert (first["key"], first["revision"], first["status"]) == (key, 1, "draft")
    again = await ok(await api.put(path, json=document))
    assert again == first  # nothing differs: nothing written
    changed = await ok(await api.put(path, json={**document, "title": "Controls"}))
    assert (changed["id"], changed["revision"], changed["version"]) == (first["id"], 1, 2)
    await ok(await api.post(f"{POLICIES}/{first['id']}/publish"))
    same = await ok(await api.put(path, json={**document, "title": "Controls"}))
    assert (same["id"], same["status"]) == (first["id"], "published")
    second = await ok(await api.put(path, json={**document, "text": "New wording"}), 201)
    assert (second["revision"], second["status"]) == (2, "draft")
    # A revision's id names its key too.
    by_id = await ok(await api.put(f"{POLICIES}/{first['id']}", json={**document, "text": "Again"}))
    assert (by_id["id"], by_id["revision"], by_id["text"]) == (second["id"], 2, "Again")
    assert_problem(await api.put(f"{POLICIES}/{uuid.uuid4()}", json=document), 404)

    before = await api.table_counts()
    assert_problem(await api.put(path, "viewer", json=document), 403, "role_forbidden")
    bad = {"title": "Control", "rules": [_rule("BASE", "no_such_check", _case())]}
    assert_problem(await api.put(path, json=bad), 422, "invalid_policy")
    assert_problem(await api.put(f"{POLICIES}/lower", json=document), 422)
    assert await api.table_counts() == before
