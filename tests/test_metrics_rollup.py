"""The executive rollups on an organisation of their own (a database per test): a
portfolio tree three levels deep to the cent, aggregate earned value, top risks, red
projects, compliance, the budget aligned to each objective, and the summary."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from pmo_api import cli
from tests.conftest import Api, _add_role_keys, new_key, start_api
from tests.test_raid import ok

TODAY = datetime.now(UTC).date()
POLICIES = "/api/v1/standards/policies"


@pytest_asyncio.fixture
async def fresh(backend: str, tmp_path: Path) -> AsyncIterator[Api]:
    """An API on a database of its own: the organisation is exactly what a test makes."""
    api, stop = await start_api(backend, tmp_path)
    await _add_role_keys(api)
    try:
        yield api
    finally:
        await stop()


async def command(api: Api, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    """A ``pmo-api`` command on the test's database, as cron runs it: what it printed."""
    monkeypatch.setenv("PMO_DATABASE_URL", api.url)
    monkeypatch.setenv("PMO_AUTO_MIGRATE", "false")
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdout", out)
        code = await asyncio.to_thread(cli.main, list(args))
    assert code == 0
    return out.getvalue()


async def _project(api: Api, portfolio: dict[str, Any], case: str, **fields: Any) -> dict[str, Any]:
    return await api.make_project(portfolio["id"], attributes={"case": case}, **fields)


async def _cost(api: Api, project: dict[str, Any], amount: str) -> None:
    body = {"incurred_on": str(TODAY), "amount": amount, "category": "labour", "description": "x"}
    await ok(await api.post(f"/api/v1/projects/{project['id']}/costs", json=body), 201)


async def _baseline(api: Api, project: dict[str, Any]) -> None:
    path = f"/api/v1/projects/{project['id']}/baselines"
    await ok(await api.post(path, json={"name": "B1"}), 201)


async def _risk(api: Api, project: dict[str, Any], p: int, i: int, **fields: Any) -> None:
    body = {"title": f"risk {p}x{i}", "probability": p, "impact": i, **fields}
    await ok(await api.post(f"/api/v1/projects/{project['id']}/risks", json=body), 201)


async def _objective(api: Api, weight: int) -> dict[str, Any]:
    body = {
        "key": new_key("OB"),
        "title": f"Objective weighing {weight}",
        "weight": weight,
        "period_start": "2027-01-01",
        "period_end": "2027-12-31",
    }
    return await ok(await api.post("/api/v1/objectives", json=body), 201)


async def _align(api: Api, project: dict[str, Any], objective: dict[str, Any], c: int) -> None:
    body = {"objective_id": objective["id"], "contribution": c}
    await ok(await api.post(f"/api/v1/projects/{project['id']}/alignments", json=body), 201)


async def _tree(api: Api) -> dict[str, Any]:
    """top > mid > leaf, a project in each level, an archived one; a policy in force."""
    case = uuid.uuid4().hex[:12]
    top = await api.make_portfolio()
    mid = await api.make_portfolio(parent_id=top["id"])
    leaf = await api.make_portfolio(parent_id=mid["id"])
    a = await _project(
        api, top, case, health="red", status="active", phase="build", percent_complete=40,
        planned_budget="1000.10", planned_start=str(TODAY - timedelta(days=50)),
        planned_end=str(TODAY + timedelta(days=50)),
    )  # fmt: skip
    b = await _project(api, mid, case, status="active", phase="build", planned_budget="500.25")
    c = await _project(
        api, leaf, case, health="red", percent_complete=10, planned_budget="99.99",
        planned_start=str(TODAY - timedelta(days=10)), planned_end=str(TODAY + timedelta(days=30)),
    )  # fmt: skip
    gone = await _project(api, leaf, case, health="red", planned_budget="777.00")
    await _baseline(api, a)
    await _baseline(api, c)
    await _cost(api, a, "300.00")
    await _cost(api, b, "0.10")
    await _cost(api, b, "0.20")
    await _cost(api, c, "5.55")
    await _risk(api, a, 5, 4)
    await _risk(api, c, 5, 5)
    await _risk(api, b, 3, 3, status="mitigating")
    await _risk(api, b, 5, 5, status="closed")
    await _risk(api, gone, 5, 5)
    grow, save = await _objective(api, 30), await _objective(api, 10)
    await _align(api, a, grow, 2)
    await _align(api, c, grow, 0)  # contributes nothing: not aligned to it
    await _align(api, c, save, 3)
    await _align(api, gone, save, 3)
    assert (await api.delete(f"/api/v1/projects/{gone['id']}")).status_code == 200
    rules = [
        {
            "code": "BASE",
            "title": "A baseline",
            "severity": "high",
            "applies_when": {"attributes.case": {"eq": case}},
            "check": {"type": "baseline_present", "params": {}},
        },
        {
            "code": "FRESH",
            "title": "A recent status report",
            "severity": "medium",
            "applies_when": {"attributes.case": {"eq": case}},
            "check": {"type": "status_report_fresh", "params": {"days": 30}},
        },
    ]
    draft = await ok(
        await api.post(
            POLICIES,
            "pmo",
            json={"key": new_key("PO"), "title": "Controls", "text": "Do it.", "rules": rules},
        ),
        201,
    )
    await ok(await api.post(f"{POLICIES}/{draft['id']}/publish", "pmo"))
    return {"top": top, "mid": mid, "leaf": leaf, "a": a, "b": b, "c": c,
            "grow": grow, "save": save}  # fmt: skip


async def test_a_tree_three_levels_deep_rolls_up_to_the_cent(
    fresh: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = fresh
    org = await _tree(api)
    before = await ok(await api.get(f"/api/v1/metrics/portfolios/{org['top']['key']}"))
    assert before["compliance"] == {
        "rate": None, "passed": 0, "failed": 0, "projects_judged": 0, "judged_at": None,
    }  # fmt: skip
    await command(api, monkeypatch, "compliance", "watch")
    top = await ok(await api.get(f"/api/v1/metrics/portfolios/{org['top']['key']}", "viewer"))
    assert top["project_count"] == 3  # the archived project is left out
    assert top["by_status"]["active"] == 2 and top["by_status"]["proposed"] == 1
    assert top["by_health"] == {"green": 1, "amber": 0, "red": 2}
    assert top["budget"] == {"planned": 1600.34, "actual": 305.85, "variance": 1294.49}
    # A: PV 1000.10 x 50/100 = 500.05, EV 400.04, AC 300.00; C: PV 99.99 x 10/40 =
    # 25.00 (24.9975), EV 10.00 (9.999), AC 5.55; B has no baseline: not measured.
    assert top["earned_value"] == {
        "projects_measured": 2,
        "planned_value": 525.05,
        "earned_value": 410.04,
        "actual_cost": 305.55,
        "spi": 0.781,  # 410.04 / 525.05 = 0.78097
        "cpi": 1.342,  # 410.04 / 305.55 = 1.34197
        "reasons": {},
    }
    assert [(r["score"], r["project_key"]) for r in top["top_risks"]] == [
        (25, org["c"]["key"]), (20, org["a"]["key"]), (9, org["b"]["key"]),
    ]  # fmt: skip
    assert [p["key"] for p in top["red_projects"]] == sorted([org["a"]["key"], org["c"]["key"]])
    assert {o["key"]: (o["projects"], o["planned_budget"], o["share_of_budget"])
            for o in top["objectives"]} == {
        org["grow"]["key"]: (1, 1000.10, 0.6249),  # 1000.10 / 1600.34
        org["save"]["key"]: (1, 99.99, 0.0625),  # 99.99 / 1600.34 = 0.06248
    }  # fmt: skip
    assert top["unaligned"] == {
        "projects": 1, "planned_budget": 500.25, "actual_cost": 0.3, "share_of_budget": 0.3126,
    }  # fmt: skip
    # Compliance, as the watch judged: BASE passes on A and C, fails on B; FRESH fails on
    # all three (no report yet).
    judged_at = top["compliance"].pop("judged_at")
    assert judged_at is not None
    assert top["compliance"] == {"rate": 0.3333, "passed": 2, "failed": 4, "projects_judged": 3}
    judged = await ok(await api.get(f"/api/v1/portfolios/{org['top']['id']}/compliance"))
    assert (judged["passed"], judged["failed"], judged["rate"]) == (2, 4, 0.3333)

    mid = await ok(await api.get(f"/api/v1/metrics/portfolios/{org['mid']['id']}"))
    assert mid["project_count"] == 2
    assert mid["budget"] == {"planned": 600.24, "actual": 5.85, "variance": 594.39}
    assert mid["earned_value"]["planned_value"] == 25.0
    assert mid["earned_value"]["spi"] == 0.4  # 10.00 / 25.00
    leaf = await ok(await api.get(f"/api/v1/metrics/portfolios/{org['leaf']['id']}"))
    assert leaf["budget"] == {"planned": 99.99, "actual": 5.55, "variance": 94.44}
    assert leaf["compliance"]["rate"] == 0.5
    assert (leaf["compliance"]["passed"], leaf["compliance"]["failed"]) == (1, 1)
    alone = await ok(
        await api.get(
            f"/api/v1/metrics/portfolios/{org['top']['id']}",
            params={"include_sub_portfolios": "false"},
        )
    )
    assert alone["project_count"] == 1 and alone["budget"]["planned"] == 1000.10
    assert alone["unaligned"]["projects"] == 0 and alone["unaligned"]["share_of_budget"] == 0.0

    # The organisation is this tree: the summary says the same.
    summary = await ok(await api.get("/api/v1/metrics/summary", "viewer"))
    top["compliance"]["judged_at"] = judged_at
    for name in ("project_count", "by_health", "budget", "earned_value", "compliance",
                 "top_risks", "red_projects", "objectives", "unaligned"):  # fmt: skip
        assert summary[name] == top[name], name
    assert "portfolio_id" not in summary

    project = await ok(await api.get(f"/api/v1/metrics/projects/{org['b']['key']}"))
    assert project["compliance"] == {"rate": 0.0, "passed": 0, "failed": 2}
    assert project["earned_value"] is None

    as_csv = await api.get("/api/v1/metrics/summary", params={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    row = next(csv.DictReader(io.StringIO(as_csv.text)))
    assert row["earned_value.spi"] == "0.781"
    assert row[f"objectives.{org['grow']['key']}.share_of_budget"] == "0.6249"
    assert row["top_risks.1.score"] == "25"


async def test_the_watch_keeps_the_rollup_compliance_current(
    fresh: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = fresh
    org = await _tree(api)
    await command(api, monkeypatch, "compliance", "watch")
    path = f"/api/v1/metrics/portfolios/{org['mid']['id']}"
    first = (await ok(await api.get(path)))["compliance"]
    assert (first["passed"], first["failed"]) == (1, 3)  # B fails BASE; FRESH fails on both
    await _baseline(api, org["b"])  # B now passes BASE: its verdict changes, not its state
    await command(api, monkeypatch, "compliance", "watch")
    then = (await ok(await api.get(path)))["compliance"]
    assert (then["passed"], then["failed"], then["rate"]) == (2, 2, 0.5)
    assert then["judged_at"] >= first["judged_at"]


async def test_an_empty_organisation_and_no_measure(fresh: Api) -> None:
    api = fresh
    summary = await ok(await api.get("/api/v1/metrics/summary"))
    assert summary["project_count"] == 0
    assert summary["earned_value"]["spi"] is None
    assert set(summary["earned_value"]["reasons"]) == {"spi", "cpi"}
    assert summary["compliance"]["rate"] is None
    assert summary["compliance"]["projects_judged"] == 0
    assert summary["objectives"] == [] and summary["top_risks"] == []
    assert summary["unaligned"]["share_of_budget"] is None


async def test_graphql_metrics_are_the_rest_figures(
    fresh: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = fresh
    org = await _tree(api)
    await command(api, monkeypatch, "compliance", "watch")
    query = """
    query($key: String!, $project: String!) {
      portfolio(idOrKey: $key) {
        metrics { projectCount budget { planned actual variance }
                  earnedValue { plannedValue earnedValue spi cpi }
                  compliance { rate passed failed }
                  topRisks { score projectKey } redProjects { key }
                  objectives { key shareOfBudget } unaligned { projectCount: projects }
                  byHealth }
        alone: metrics(includeSubPortfolios: false) { projectCount }
        history(interval: DAY) { interval points { asOf projectCount } }
      }
      project(idOrKey: $project) { metrics { compliance { passed failed } earnedValue { spi } } }
      metricsSummary { projectCount budget { planned } }
    }"""
    body = await api.gql(query, {"key": org["top"]["key"], "project": org["a"]["key"]}, "viewer")
    assert "errors" not in body, body
    got = body["data"]
    rest = await ok(await api.get(f"/api/v1/metrics/portfolios/{org['top']['id']}"))
    figures = got["portfolio"]["metrics"]
    assert figures["projectCount"] == rest["project_count"] == 3
    assert figures["budget"] == rest["budget"]
    assert figures["earnedValue"]["spi"] == rest["earned_value"]["spi"] == 0.781
    assert figures["compliance"] == {k: rest["compliance"][k] for k in ("rate", "passed", "failed")}
    assert [r["score"] for r in figures["topRisks"]] == [25, 20, 9]
    assert figures["byHealth"] == rest["by_health"]
    assert figures["unaligned"] == {"projectCount": 1}
    assert got["portfolio"]["alone"]["projectCount"] == 1
    points = got["portfolio"]["history"]["points"]
    assert len(points) == 30 and points[-1]["asOf"] == str(TODAY)
    assert got["project"]["metrics"]["compliance"] == {"passed": 1, "failed": 1}
    assert got["project"]["metrics"]["earnedValue"]["spi"] == 0.8  # 400.04 / 500.05
    assert got["metricsSummary"]["budget"]["planned"] == 1600.34
    refused = await api.gql(
        '{ metricsSummary(asOf: "2000-01-01") { projectCount } }', role="viewer"
    )
    assert refused["errors"][0]["extensions"]["code"] == "before_history"


async def test_the_counts_a_project_keeps_follow_its_risks_and_baseline(api: Api) -> None:
    """A rollup sums the open risks and the baseline each project keeps on its row: every
    kind of write moves them as the risks and baselines themselves say."""
    portfolio = await api.make_portfolio()
    project = await api.make_project(
        portfolio["id"], percent_complete=50, planned_budget="1000.00",
        planned_start=str(TODAY - timedelta(days=10)), planned_end=str(TODAY + timedelta(days=10)),
    )  # fmt: skip
    base = f"/api/v1/projects/{project['id']}"
    path = f"/api/v1/metrics/portfolios/{portfolio['id']}"

    async def agree() -> dict[str, Any]:
        rollup = await ok(await api.get(path))
        figures = await ok(await api.get(f"/api/v1/metrics/projects/{project['id']}"))
        bands = figures["open_risks"]
        assert rollup["open_risks"] == bands["total"]
        assert rollup["open_high_risks"] == bands["high"] + bands["critical"]
        return rollup

    made = []
    for p, i, status in ((5, 4, "open"), (1, 2, "mitigating"), (5, 5, "closed"), (3, 3, "open")):
        body = {"title": "r", "probability": p, "impact": i, "status": status}
        made.append(await ok(await api.post(f"{base}/risks", json=body), 201))
    assert (await agree())["open_risks"] == 3
    await ok(await api.patch(f"/api/v1/risks/{made[0]['id']}", json={"status": "closed"}))
    await ok(await api.patch(f"/api/v1/risks/{made[2]['id']}", json={"status": "open"}))
    await ok(await api.patch(f"/api/v1/risks/{made[3]['id']}", json={"probability": 4}))  # 12
    await ok(await api.patch(f"/api/v1/risks/{made[1]['id']}", json={"title": "renamed"}))
    assert (await agree())["open_high_risks"] == 2
    assert (await api.delete(f"/api/v1/risks/{made[2]['id']}")).status_code == 200
    assert (await agree())["open_risks"] == 2

    first = await ok(await api.post(f"{base}/baselines", json={"name": "B1"}), 201)
    measured = (await agree())["earned_value"]
    assert (measured["planned_value"], measured["earned_value"]) == (500.0, 500.0)
    await ok(await api.patch(base, json={"planned_budget": "2000.00"}))
    await ok(await api.post(f"{base}/baselines", json={"name": "B2"}), 201)
    assert (await agree())["earned_value"]["earned_value"] == 1000.0  # 50 % of B2's 2000
    await ok(await api.patch(base, json={"baseline_id": first["id"]}))
    assert (await agree())["earned_value"]["earned_value"] == 500.0  # back to B1
    await ok(await api.patch(base, json={"baseline_id": None}))
    assert (await agree())["earned_value"]["projects_measured"] == 0

    # Aligned to no objective until one alignment contributes; again when none does.
    assert (await agree())["unaligned"]["projects"] == 1
    body = {"key": new_key("OB"), "title": "O", "weight": 1, "period_start": "2027-01-01",
            "period_end": "2027-12-31"}  # fmt: skip
    objective = await ok(await api.post("/api/v1/objectives", json=body), 201)
    path_a = f"{base}/alignments"
    made_a = await ok(
        await api.post(path_a, json={"objective_id": objective["id"], "contribution": 0}), 201
    )
    assert (await agree())["unaligned"]["projects"] == 1  # contributes nothing
    await ok(await api.patch(f"/api/v1/alignments/{made_a['id']}", json={"contribution": 2}))
    assert (await agree())["unaligned"]["projects"] == 0
    assert (await api.delete(f"/api/v1/alignments/{made_a['id']}")).status_code == 200
    assert (await agree())["unaligned"]["projects"] == 1
