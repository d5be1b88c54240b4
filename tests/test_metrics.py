"""Portfolio rollups: the figures, computed in SQL, over nested portfolios."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Api

TODAY = datetime.now(UTC).date()


async def _risk(api: Api, project: dict[str, Any], p: int, i: int, **fields: Any) -> dict[str, Any]:
    body = {"title": f"risk {p}x{i}", "probability": p, "impact": i, **fields}
    response = await api.post(f"/api/v1/projects/{project['id']}/risks", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _milestone(api: Api, project: dict[str, Any], days: int, **fields: Any) -> None:
    body = {"name": "m", "due_date": str(TODAY + timedelta(days=days)), **fields}
    response = await api.post(f"/api/v1/projects/{project['id']}/milestones", json=body)
    assert response.status_code == 201, response.text


async def _cost(api: Api, project: dict[str, Any], amount: str) -> None:
    body = {"incurred_on": str(TODAY), "amount": amount, "category": "labour", "description": "x"}
    response = await api.post(f"/api/v1/projects/{project['id']}/costs", json=body)
    assert response.status_code == 201, response.text


async def _organisation(api: Api) -> dict[str, Any]:
    top = await api.make_portfolio()
    sub = await api.make_portfolio(parent_id=top["id"])
    a = await api.make_project(
        top["id"], status="active", health="red", phase="build", planned_budget="1000.10"
    )
    b = await api.make_project(
        sub["id"], status="active", health="green", phase="build", planned_budget="500.25"
    )
    c = await api.make_project(top["id"], status="proposed", planned_budget="99.99")
    gone = await api.make_project(top["id"], status="active", planned_budget="777.00")
    await _risk(api, a, 5, 4)  # open, high (20)
    await _risk(api, b, 3, 5, status="mitigating")  # open, high (15)
    await _risk(api, b, 2, 2)  # open, low
    await _risk(api, a, 5, 5, status="closed")  # closed: not counted
    archived_risk = await _risk(api, c, 5, 5)
    assert (await api.delete(f"/api/v1/risks/{archived_risk['id']}")).status_code == 200
    await _milestone(api, a, -3)  # overdue
    await _milestone(api, b, -1, status="in_progress")  # overdue
    await _milestone(api, b, -10, status="done")  # done: not overdue
    await _milestone(api, c, 5)  # future
    await _cost(api, a, "100.05")
    await _cost(api, b, "0.10")
    await _cost(api, b, "0.20")
    await _risk(api, gone, 5, 5)
    await _milestone(api, gone, -5)
    assert (await api.delete(f"/api/v1/projects/{gone['id']}")).status_code == 200
    return {"top": top, "sub": sub}


async def test_portfolio_rollup_over_nested_portfolios(api: Api) -> None:
    org = await _organisation(api)
    response = await api.get(f"/api/v1/metrics/portfolios/{org['top']['key']}", role="viewer")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["portfolio_id"] == org["top"]["id"]
    assert body["include_sub_portfolios"] is True
    assert body["as_of"] == str(TODAY)
    assert body["project_count"] == 3  # the archived project is left out
    assert body["by_status"] == {
        "proposed": 1, "active": 2, "on_hold": 0, "completed": 0, "cancelled": 0,
    }  # fmt: skip
    assert body["by_health"] == {"green": 2, "amber": 0, "red": 1}
    assert body["by_phase"] == [{"phase": "build", "count": 2}, {"phase": None, "count": 1}]
    assert body["budget"] == {"planned": 1600.34, "actual": 100.35, "variance": 1499.99}
    assert body["open_risks"] == 3
    assert body["open_high_risks"] == 2
    assert body["overdue_milestones"] == 2


async def test_portfolio_rollup_without_nested_portfolios(api: Api) -> None:
    org = await _organisation(api)
    response = await api.get(
        f"/api/v1/metrics/portfolios/{org['top']['id']}?include_sub_portfolios=false"
    )
    body = response.json()
    assert body["project_count"] == 2
    assert body["budget"] == {"planned": 1100.09, "actual": 100.05, "variance": 1000.04}
    assert (body["open_risks"], body["open_high_risks"], body["overdue_milestones"]) == (1, 1, 1)
    sub = (await api.get(f"/api/v1/metrics/portfolios/{org['sub']['id']}")).json()
    assert sub["project_count"] == 1
    assert sub["budget"]["actual"] == 0.3  # 0.10 + 0.20, exactly


async def test_empty_portfolio_has_zero_figures(api: Api) -> None:
    portfolio = await api.make_portfolio()
    body = (await api.get(f"/api/v1/metrics/portfolios/{portfolio['id']}")).json()
    assert body["project_count"] == 0
    assert body["by_health"] == {"green": 0, "amber": 0, "red": 0}
    assert body["by_phase"] == []
    assert body["budget"] == {"planned": 0.0, "actual": 0.0, "variance": 0.0}
    assert (body["open_risks"], body["open_high_risks"], body["overdue_milestones"]) == (0, 0, 0)


async def test_over_budget_variance_is_negative(api: Api) -> None:
    portfolio = await api.make_portfolio()
    project = await api.make_project(portfolio["id"], planned_budget="10.00")
    await _cost(api, project, "12.50")
    body = (await api.get(f"/api/v1/metrics/portfolios/{portfolio['id']}")).json()
    assert body["budget"] == {"planned": 10.0, "actual": 12.5, "variance": -2.5}


async def test_rollup_as_csv(api: Api) -> None:
    org = await _organisation(api)
    response = await api.get(f"/api/v1/metrics/portfolios/{org['top']['id']}?format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    row = rows[0]
    assert row["project_count"] == "3"
    assert row["by_health.red"] == "1"
    assert row["by_phase.build"] == "2"
    assert row["budget.planned"] == "1600.34"
    assert row["overdue_milestones"] == "2"
    by_accept = await api.get(
        f"/api/v1/metrics/portfolios/{org['top']['id']}", headers={"Accept": "text/csv"}
    )
    assert by_accept.text == response.text


async def test_rollup_statements_do_not_grow_with_the_portfolio(api: Api) -> None:
    small = await api.make_portfolio()
    await api.make_project(small["id"])
    big = await api.make_portfolio()
    for n in range(12):
        project = await api.make_project(big["id"], phase=f"phase-{n % 4}")
        await _risk(api, project, 4, 4)
        await _milestone(api, project, -1)
    counts = []
    for portfolio in (small, big):
        with api.count_statements() as counter:
            response = await api.get(f"/api/v1/metrics/portfolios/{portfolio['id']}")
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]
    # the API key's look-up, the portfolio with its tree's ids, then the projects' rows
    # grouped and summed (counts, budgets, open risks, overdue milestones, earned value,
    # the compliance watch's verdicts, the unaligned budget), the top risks, the red
    # projects, the budget by objective; reads run outside any transaction (no BEGIN)
    assert counts[1] == 6, counter.statements
    # Only the figures asked for are computed: the counts and budget, one statement.
    with api.count_statements() as counter:
        response = await api.get(
            f"/api/v1/metrics/portfolios/{big['id']}",
            params={"fields": "project_count,by_health,budget,open_high_risks"},
        )
    assert response.status_code == 200, response.text
    assert counter.count == 3, counter.statements
    assert set(response.json()) == {
        "portfolio_id", "key", "name", "include_sub_portfolios", "as_of", "from_history",
        "project_count", "by_health", "budget", "open_high_risks",
    }  # fmt: skip
    assert response.json()["project_count"] == 12
    assert response.json()["open_high_risks"] == 12  # 4 x 4 each


async def test_rollup_fields_refusals(api: Api) -> None:
    portfolio = await api.make_portfolio()
    path = f"/api/v1/metrics/portfolios/{portfolio['id']}"
    for fields in ("budget,nope", "budget,", "BUDGET", ""):
        response = await api.get(path, params={"fields": fields})
        assert response.status_code == 422, (fields, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    unknown = await api.get("/api/v1/metrics/summary", params={"fields": "budget,nope"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "validation_failed"
    assert unknown.json()["errors"][0]["loc"] == ["query", "fields"]
    # The pattern the schema states names every figure.
    assert "top_risks" in str(unknown.json()["errors"][0]["msg"])
    as_csv = await api.get(path, params={"fields": "budget", "format": "csv"})
    columns = set(as_csv.text.splitlines()[0].split(","))
    assert {"budget.planned", "budget.actual", "budget.variance"} <= columns
    assert not any(column.startswith("by_health") for column in columns)


async def test_rollup_refusals(api: Api) -> None:
    missing = await api.get("/api/v1/metrics/portfolios/NOPE-1")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "portfolio_not_found"
    portfolio = await api.make_portfolio()
    unknown = await api.get(f"/api/v1/metrics/portfolios/{portfolio['id']}?colour=red")
    assert unknown.status_code == 422
    bad = await api.get(f"/api/v1/metrics/portfolios/{portfolio['id']}?format=xml")
    assert bad.status_code == 422
    anonymous = await api.http.get(f"/api/v1/metrics/portfolios/{portfolio['id']}")
    assert anonymous.status_code == 401


async def test_project_lists_carry_open_risk_counts_in_one_statement(api: Api) -> None:
    portfolio = await api.make_portfolio()
    risky = await api.make_project(portfolio["id"], key="AA-1")
    calm = await api.make_project(portfolio["id"], key="AA-2")
    await _risk(api, risky, 2, 2)
    await _risk(api, risky, 3, 3, status="mitigating")
    await _risk(api, risky, 4, 4, status="closed")
    await _risk(api, calm, 1, 1, status="occurred")
    # key look-up + the page; the portfolio's own list first reads it
    for path, statements in (
        (f"/api/v1/projects?portfolio_id={portfolio['id']}", 2),
        (f"/api/v1/portfolios/{portfolio['id']}/projects", 3),
    ):
        with api.count_statements() as counter:
            response = await api.get(path)
        counts = {item["key"]: item["open_risk_count"] for item in response.json()["items"]}
        assert counts == {"AA-1": 2, "AA-2": 0}
        assert counter.count == statements, counter.statements  # no BEGIN around reads
    csv_rows = list(
        csv.DictReader(
            io.StringIO(
                (await api.get(f"/api/v1/portfolios/{portfolio['id']}/projects?format=csv")).text
            )
        )
    )
    assert [row["open_risk_count"] for row in csv_rows] == ["2", "0"]
    # The single GET's ETag is its version: it carries no figure that changes without it.
    assert "open_risk_count" not in (await api.get(f"/api/v1/projects/{risky['id']}")).json()


async def test_computed_figures_answer_304_while_unchanged(api: Api) -> None:
    org = await _organisation(api)
    path = f"/api/v1/metrics/portfolios/{org['top']['id']}"
    first = await api.get(path)
    etag = first.headers["etag"]
    again = await api.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    as_csv = await api.get(path, headers={"Accept": "text/csv", "If-None-Match": etag})
    assert as_csv.status_code == 200  # another representation, another ETag
    project = (await api.get(f"/api/v1/portfolios/{org['top']['id']}/projects")).json()["items"][0]
    await _risk(api, project, 5, 5)
    changed = await api.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["open_risks"] == first.json()["open_risks"] + 1


async def _plan(api: Api) -> tuple[dict[str, Any], str]:
    project = await api.make_project(
        planned_start=str(TODAY - timedelta(days=50)),
        planned_end=str(TODAY + timedelta(days=50)),
        planned_budget="1000.00",
        percent_complete=40,
    )
    await _cost(api, project, "300.00")
    captured = await api.post(f"/api/v1/projects/{project['id']}/baselines", json={"name": "B1"})
    assert captured.status_code == 201, captured.text
    return project, captured.json()["id"]


async def test_project_metrics_measure_against_the_current_baseline(api: Api) -> None:
    project, baseline_id = await _plan(api)
    for p, i, status in ((1, 1, "open"), (2, 3, "open"), (3, 4, "mitigating"), (5, 5, "open"),
                         (5, 5, "closed")):  # fmt: skip
        await _risk(api, project, p, i, status=status)
    await _milestone(api, project, -2)
    await _milestone(api, project, 3)
    report = {
        "period_start": str(TODAY - timedelta(days=9)),
        "period_end": str(TODAY - timedelta(days=3)),
        **{f"{part}_health": "green" for part in ("overall", "schedule", "budget", "scope")},
        "resources_health": "green",
        "summary": "on track",
    }
    draft = await api.post(f"/api/v1/projects/{project['id']}/status-reports", json=report)
    assert (
        await api.post(f"/api/v1/status-reports/{draft.json()['id']}/submit")
    ).status_code == 200
    moved = await api.patch(
        f"/api/v1/projects/{project['id']}",
        json={"planned_end": str(TODAY + timedelta(days=60)), "planned_budget": "1200.00"},
    )
    assert moved.status_code == 200

    in_force = await api.get(
        "/api/v1/standards/policies", params={"status": "published", "limit": 1}
    )
    judged = 1 if in_force.json()["items"] else 0  # other tests' policies may be in force
    with api.count_statements() as counter:
        response = await api.get(f"/api/v1/metrics/projects/{project['key']}", role="viewer")
    assert response.status_code == 200, response.text
    # key look-up, the project, its baseline, one statement of figures, the policies in
    # force and, when there are some, their rules judged in one statement (+ BEGIN on
    # SQLite)
    assert counter.count == (6 if api.backend == "sqlite" else 5) + judged
    body = response.json()
    assert body["as_of"] == str(TODAY)
    assert (body["planned_budget"], body["actual_cost"], body["budget_variance"]) == (
        1200.0, 300.0, 900.0,
    )  # fmt: skip
    assert body["baseline"]["id"] == baseline_id
    assert body["baseline"]["planned_budget"] == 1000.0
    assert body["variance"] == {"budget_change": 200.0, "start_slip_days": 0, "end_slip_days": 10}
    # BAC 1,000 over 100 days, 50 elapsed: PV 500; 40 % done: EV 400; AC 300.
    assert body["earned_value"] == {
        "budget_at_completion": 1000.0,
        "planned_value": 500.0,
        "earned_value": 400.0,
        "actual_cost": 300.0,
        "schedule_variance": -100.0,
        "cost_variance": 100.0,
        "spi": 0.8,
        "cpi": 1.333,
        # BAC / CPI with CPI exact (400 / 300), not with its 3 decimals shown: 750.00.
        "estimate_at_completion": 750.0,
        "estimate_to_complete": 450.0,
        "variance_at_completion": 250.0,
        "reasons": {},
    }
    assert body["earned_value_reason"] is None
    assert body["open_risks"] == {"total": 4, "low": 1, "medium": 1, "high": 1, "critical": 1}
    assert body["overdue_milestones"] == 1
    assert body["status_report"]["latest_id"] == draft.json()["id"]
    assert body["status_report"]["age_days"] == 3
    as_csv = await api.get(f"/api/v1/metrics/projects/{project['id']}?format=csv")
    row = next(csv.DictReader(io.StringIO(as_csv.text)))
    assert (row["earned_value.spi"], row["open_risks.critical"]) == ("0.8", "1")


async def test_the_current_baseline_is_chosen_or_cleared_on_the_project(api: Api) -> None:
    project, first = await _plan(api)
    second = await api.post(f"/api/v1/projects/{project['id']}/baselines", json={"name": "B2"})
    path = f"/api/v1/projects/{project['id']}"
    assert (await api.get(path)).json()["baseline_id"] == second.json()["id"]
    back = await api.patch(path, json={"baseline_id": first})
    assert back.status_code == 200 and back.json()["baseline_id"] == first
    metrics = (await api.get(f"/api/v1/metrics/projects/{project['id']}")).json()
    assert metrics["baseline"]["name"] == "B1"

    _, foreign = await _plan(api)
    counts = await api.table_counts()
    refused = await api.patch(path, json={"baseline_id": foreign})
    assert refused.status_code == 422 and refused.json()["code"] == "baseline_not_found"
    assert refused.json()["errors"][0]["loc"] == ["body", "baseline_id"]
    assert await api.table_counts() == counts
    assert (await api.get(path)).json()["baseline_id"] == first

    cleared = await api.patch(path, json={"baseline_id": None})
    assert cleared.status_code == 200 and cleared.json()["baseline_id"] is None
    metrics = (await api.get(f"/api/v1/metrics/projects/{project['id']}")).json()
    assert (metrics["baseline"], metrics["variance"], metrics["earned_value"]) == (None,) * 3
    gql = await api.gql(
        """mutation($id: ID!, $b: ID) { updateProject(id: $id, input: {baselineId: $b}) {
            __typename ... on ProjectPayload { project { baseline { name } } } } }""",
        {"id": project["id"], "b": second.json()["id"]},
    )
    assert gql["data"]["updateProject"]["project"]["baseline"] == {"name": "B2"}


async def test_project_metrics_refusals(api: Api) -> None:
    assert (await api.get("/api/v1/metrics/projects/NOPE-404")).status_code == 404
    project = await api.make_project()
    assert (await api.get(f"/api/v1/metrics/projects/{project['id']}?x=1")).status_code == 422
    body = (await api.get(f"/api/v1/metrics/projects/{project['id']}")).json()
    assert body["earned_value"] is None and body["status_report"] is None
    assert body["earned_value_reason"] == "The project has no current baseline to measure against."
    assert body["open_risks"]["total"] == 0


async def test_comparisons_diffs_and_allocation_answer_304_while_unchanged(api: Api) -> None:
    project, baseline_id = await _plan(api)
    report = {
        "period_start": str(TODAY - timedelta(days=9)),
        "period_end": str(TODAY - timedelta(days=3)),
        **{f"{part}_health": "green" for part in ("overall", "schedule", "budget", "scope")},
        "resources_health": "green",
    }
    draft = await api.post(f"/api/v1/projects/{project['id']}/status-reports", json=report)
    assert draft.status_code == 201, draft.text
    person = await api.make_person()
    paths = (
        f"/api/v1/baselines/{baseline_id}/compare",
        f"/api/v1/status-reports/{draft.json()['id']}/diff",
        f"/api/v1/people/{person['id']}/allocation",
        f"/api/v1/metrics/projects/{project['id']}",
    )
    for path in paths:
        first = await api.get(path)
        assert first.status_code == 200, (path, first.text)
        again = await api.get(path, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b"", path
    etags = {path: (await api.get(path)).headers["etag"] for path in paths}
    moved = await api.patch(
        f"/api/v1/projects/{project['id']}", json={"planned_end": str(TODAY + timedelta(days=70))}
    )
    assert moved.status_code == 200
    assigned = await api.post(
        f"/api/v1/projects/{project['id']}/assignments",
        json={
            "person_id": person["id"],
            "role": "dev",
            "allocation_percent": 50,
            "start_date": str(TODAY),
            "end_date": str(TODAY + timedelta(days=14)),
        },
    )
    assert assigned.status_code == 201, assigned.text
    for path in (paths[0], paths[2], paths[3]):  # the plan, the load and the figures moved
        changed = await api.get(path, headers={"If-None-Match": etags[path]})
        assert changed.status_code == 200 and changed.headers["etag"] != etags[path], path


async def _earned(api: Api, start: int, budget: str, percent: int, cost: str | None) -> Any:
    """The earned value of a project planned over 100 days from ``start`` days from
    today, baselined, ``percent`` complete, with ``cost`` spent."""
    project = await api.make_project(
        planned_start=str(TODAY + timedelta(days=start)),
        planned_end=str(TODAY + timedelta(days=start + 100)),
        planned_budget=budget,
        percent_complete=percent,
    )
    if cost is not None:
        await _cost(api, project, cost)
    captured = await api.post(f"/api/v1/projects/{project['id']}/baselines", json={"name": "B"})
    assert captured.status_code == 201, captured.text
    body = (await api.get(f"/api/v1/metrics/projects/{project['id']}")).json()
    return body["earned_value"]


async def test_earned_value_by_hand_with_the_null_cases(api: Api) -> None:
    # Budget 10,000, 40 % complete, 4,500 spent, 60 of 100 days gone: PV 6,000, EV 4,000,
    # SPI 0.667, CPI 0.889; EAC = 10,000 x 4,500 / 4,000 = 11,250.00 exactly.
    worked = await _earned(api, -60, "10000.00", 40, "4500.00")
    assert {k: worked[k] for k in ("planned_value", "earned_value", "actual_cost")} == {
        "planned_value": 6000.0,
        "earned_value": 4000.0,
        "actual_cost": 4500.0,
    }
    assert (worked["spi"], worked["cpi"]) == (0.667, 0.889)
    assert (
        worked["estimate_at_completion"],
        worked["estimate_to_complete"],
        worked["variance_at_completion"],
    ) == (11250.0, 6750.0, -1250.0)
    assert (worked["schedule_variance"], worked["cost_variance"]) == (-2000.0, -500.0)
    assert worked["reasons"] == {}
    # As much spent as earned: CPI exactly 1, EAC the budget to the cent.
    even = await _earned(api, -50, "3000.00", 33, "990.00")
    assert even["earned_value"] == 990.0 and even["estimate_at_completion"] == 3000.0
    # Not started (nothing planned yet), no cost: SPI, CPI and the estimates are null,
    # each with its reason; nothing is divided by zero.
    early = await _earned(api, 10, "5000.00", 0, None)
    assert early["planned_value"] == 0.0 and early["spi"] is None and early["cpi"] is None
    assert set(early["reasons"]) == {
        "spi",
        "cpi",
        "estimate_at_completion",
        "estimate_to_complete",
        "variance_at_completion",
    }
    assert "planned value 0" in early["reasons"]["spi"]
    assert "actual cost 0" in early["reasons"]["cpi"]
    # Money spent, nothing earned: CPI 0, no estimate at completion.
    stuck = await _earned(api, -20, "5000.00", 0, "800.00")
    assert stuck["cpi"] == 0.0 and stuck["estimate_at_completion"] is None
    assert "earned value 0" in stuck["reasons"]["estimate_at_completion"]
    assert "spi" not in stuck["reasons"] and stuck["spi"] == 0.0
