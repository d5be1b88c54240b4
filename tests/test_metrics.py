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
    # key look-up, the portfolio, the one aggregate statement (+ BEGIN on SQLite)
    assert counts[1] == (4 if api.backend == "sqlite" else 3)


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
    # key look-up (+ BEGIN on SQLite) + the page; the portfolio's own list first reads it
    for path, statements in (
        (f"/api/v1/projects?portfolio_id={portfolio['id']}", 2),
        (f"/api/v1/portfolios/{portfolio['id']}/projects", 3),
    ):
        with api.count_statements() as counter:
            response = await api.get(path)
        counts = {item["key"]: item["open_risk_count"] for item in response.json()["items"]}
        assert counts == {"AA-1": 2, "AA-2": 0}
        assert counter.count == statements + (api.backend == "sqlite")
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
