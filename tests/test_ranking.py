"""A portfolio's projects ranked by priority (``listings/ranking.py``): alignment
weighted by the objectives' weights, value for cost and open risk, by the portfolio's
weights; which projects fit under its budget cap in rank order. REST and GraphQL, both
databases."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, new_key
from tests.test_raid import data, gid, ok
from tests.test_rest_conventions import assert_problem


async def _objective(api: Api, weight: int) -> dict[str, Any]:
    body = {
        "key": new_key("OB"),
        "title": "An objective",
        "weight": weight,
        "period_start": "2027-01-01",
        "period_end": "2027-12-31",
    }
    return await ok(await api.post("/api/v1/objectives", json=body), 201)


async def _align(api: Api, project: dict[str, Any], objective: dict[str, Any], c: int) -> None:
    path = f"/api/v1/projects/{project['id']}/alignments"
    await ok(await api.post(path, json={"objective_id": objective["id"], "contribution": c}), 201)


async def test_ranking_follows_the_weights_and_the_cap(api: Api) -> None:
    portfolio = await api.make_portfolio(budget_cap="300000.00")
    program = await api.make_portfolio(parent_id=portfolio["id"])
    big, small = await _objective(api, 90), await _objective(api, 10)
    # aligned: strong on the heavy objective, cheap. costly: as aligned, 4x the budget.
    # risky: as aligned as aligned, with open risk. idle: aligned with nothing.
    aligned = await api.make_project(portfolio["id"], planned_budget="100000.00", status="active")
    costly = await api.make_project(program["id"], planned_budget="400000.00", status="active")
    risky = await api.make_project(portfolio["id"], planned_budget="100000.00", status="active")
    idle = await api.make_project(portfolio["id"], planned_budget="50000.00", status="proposed")
    done = await api.make_project(portfolio["id"], planned_budget="1.00", status="completed")
    for project in (aligned, costly, risky, done):
        await _align(api, project, big, 3)
    await _align(api, aligned, small, 1)
    risk = {"title": "Vendor", "probability": 5, "impact": 5}
    await ok(await api.post(f"/api/v1/projects/{risky['id']}/risks", json=risk), 201)

    path = f"/api/v1/portfolios/{portfolio['key']}/ranking"
    first = await ok(await api.get(path, "viewer"))
    order = [p["key"] for p in first["projects"]]
    assert done["key"] not in order  # delivered: not ranked
    assert order[0] == aligned["key"] and order[-1] == idle["key"]
    assert order.index(risky["key"]) < order.index(costly["key"])
    assert first["weights"] == {"alignment": 50, "value": 30, "risk": 20}
    by_key = {p["key"]: p for p in first["projects"]}
    assert by_key[idle["key"]]["alignment"] == 0 and by_key[risky["key"]]["risk_exposure"] == 25
    assert [p["rank"] for p in first["projects"]] == [1, 2, 3, 4]
    scores = [p["score"] for p in first["projects"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 100 for s in scores)
    # Budget in rank order against the cap (300,000): the cumulative sums to the cent.
    cumulative = 0.0
    for project in first["projects"]:
        cumulative += project["planned_budget"]
        assert project["cumulative_budget"] == round(cumulative, 2)
        assert project["fits_budget_cap"] == (cumulative <= 300000)
    assert first["funded_budget"] == max(
        p["cumulative_budget"] for p in first["projects"] if p["fits_budget_cap"]
    )
    # Without the program's projects.
    alone = await ok(await api.get(path, params={"include_sub_portfolios": "false"}))
    assert costly["key"] not in [p["key"] for p in alone["projects"]]

    # Risk weighs alone: the risky project falls to the last place.
    weights = {
        "priority_weight_alignment": 0,
        "priority_weight_value": 0,
        "priority_weight_risk": 100,
    }
    await ok(await api.patch(f"/api/v1/portfolios/{portfolio['id']}", json=weights))
    second = await ok(await api.get(path))
    assert second["projects"][-1]["key"] == risky["key"]
    assert second["weights"] == {"alignment": 0, "value": 0, "risk": 100}
    # Value for cost alone: the costly project is last among the aligned ones.
    await ok(
        await api.patch(
            f"/api/v1/portfolios/{portfolio['id']}",
            json={"priority_weight_value": 100, "priority_weight_risk": 0},
        )
    )
    third = await ok(await api.get(path))
    keys = [p["key"] for p in third["projects"]]
    assert keys.index(costly["key"]) > max(keys.index(aligned["key"]), keys.index(risky["key"]))


async def test_ranking_refusals_and_graphql(api: Api) -> None:
    portfolio = await api.make_portfolio()
    counts = await api.table_counts()
    zero = {f"priority_weight_{p}": 0 for p in ("alignment", "value", "risk")}
    patched = await api.patch(f"/api/v1/portfolios/{portfolio['id']}", json=zero)
    assert_problem(patched, 422, "priority_weights_zero")
    made = await api.post("/api/v1/portfolios", json={"key": new_key(), "name": "Zero", **zero})
    assert_problem(made, 422, "priority_weights_zero")
    assert_problem(
        await api.patch(
            f"/api/v1/portfolios/{portfolio['id']}", json={"priority_weight_risk": 101}
        ),
        422,
    )
    assert await api.table_counts() == counts
    assert_problem(await api.get("/api/v1/portfolios/NOPE-1/ranking"), 404, "portfolio_not_found")
    assert_problem(
        await api.get(f"/api/v1/portfolios/{portfolio['id']}/ranking", params={"x": "1"}), 422
    )
    project = await api.make_project(portfolio["id"], planned_budget="1000.00")
    body = await api.gql(
        """query($id: ID!) { node(id: $id) { ... on Portfolio {
             ranking { weights { alignment } projects { rank key fitsBudgetCap } } } } }""",
        {"id": gid("Portfolio", portfolio["id"])},
    )
    assert data(body)["node"]["ranking"] == {
        "weights": {"alignment": 50},
        "projects": [{"rank": 1, "key": project["key"], "fitsBudgetCap": True}],
    }
