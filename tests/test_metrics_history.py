"""The metrics' history: snapshots once per day per project (``pmo-api snapshot`` and a
status report submitted), series by day, week and month, ``as_of`` answering yesterday's
figures after today's changes, the SVG charts, and the refusals. Each test has a
database of its own and moves the service's clock."""

from __future__ import annotations

import csv
import io
import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest

from pmo_api.core import context
from tests.conftest import Api
from tests.test_metrics_rollup import command, fresh  # noqa: F401  (fresh: the fixture)
from tests.test_raid import ok
from tests.test_rest_conventions import assert_problem

TODAY = datetime.now(UTC).date()
SVG_NS = "{http://www.w3.org/2000/svg}"


class Clock:
    """The service's clock (``core.context.utcnow``), set to noon of a chosen day."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.day = TODAY
        monkeypatch.setattr(context, "utcnow", self.now)

    def now(self) -> datetime:
        if self.day == TODAY:
            return datetime.now(UTC)
        return datetime.combine(self.day, time(12), UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    yield Clock(monkeypatch)


async def _snapshot(api: Api, monkeypatch: pytest.MonkeyPatch) -> str:
    return await command(api, monkeypatch, "snapshot")


async def _rows(api: Api) -> int:
    return (await api.table_counts())["project_snapshots"]


def _points(svg: bytes, gid: str) -> int:
    """The vertices of the line whose SVG id is ``gid`` (matplotlib writes a line as
    one path: ``M x y L x y ...``)."""
    root = ET.fromstring(svg)
    group = next(g for g in root.iter(f"{SVG_NS}g") if g.get("id") == gid)
    path = next(group.iter(f"{SVG_NS}path"))
    return len(re.findall(r"[ML]\s*-?[\d.]+\s+-?[\d.]+", path.get("d", "")))


async def test_snapshots_once_a_day_and_series_by_interval(
    fresh: Api,  # noqa: F811
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = fresh
    two_ago, yesterday = TODAY - timedelta(days=2), TODAY - timedelta(days=1)
    clock.day = two_ago
    top = await api.make_portfolio()
    sub = await api.make_portfolio(parent_id=top["id"])
    a = await api.make_project(top["id"], planned_budget="100.10", health="green")
    b = await api.make_project(sub["id"], planned_budget="200.20", health="green")
    for _ in range(3):  # as often as cron likes: once per day per project
        said = await _snapshot(api, monkeypatch)
    assert "2 project snapshot(s)" in said
    assert await _rows(api) == 2

    clock.day = yesterday
    await ok(await api.patch(f"/api/v1/projects/{a['id']}", json={"health": "red"}))
    await _snapshot(api, monkeypatch)
    await ok(await api.patch(f"/api/v1/projects/{b['id']}", json={"planned_budget": "300.30"}))
    await _snapshot(api, monkeypatch)  # the same day again: brought up to date
    assert await _rows(api) == 4

    clock.day = TODAY
    c = await api.make_project(sub["id"], planned_budget="0.01")
    await _snapshot(api, monkeypatch)
    assert await _rows(api) == 7

    path = f"/api/v1/metrics/portfolios/{top['key']}/history"
    daily = await ok(
        await api.get(
            path, "viewer", params={"from": str(two_ago), "to": str(TODAY), "interval": "day"}
        )
    )
    assert daily["first_snapshot"] == str(two_ago)
    assert [p["as_of"] for p in daily["points"]] == [str(two_ago), str(yesterday), str(TODAY)]
    assert [p["project_count"] for p in daily["points"]] == [2, 2, 3]
    assert [p["planned_budget"] for p in daily["points"]] == [300.30, 400.40, 400.41]
    assert [p["by_health"]["red"] for p in daily["points"]] == [0, 1, 1]
    # A day before the history has a point with nothing in it.
    earlier = await ok(
        await api.get(
            path,
            params={"from": str(TODAY - timedelta(days=4)), "to": str(two_ago), "interval": "day"},
        )
    )
    assert [p["project_count"] for p in earlier["points"]] == [0, 0, 2]

    weekly = await ok(
        await api.get(
            path,
            params={"from": str(TODAY - timedelta(days=20)), "to": str(TODAY), "interval": "week"},
        )
    )
    points = weekly["points"]
    assert points[-1]["as_of"] == str(TODAY) and points[-1]["project_count"] == 3
    for before, after in itertools.pairwise(points):  # one point per ISO week
        assert date.fromisoformat(after["period_start"]).weekday() == 0
        assert date.fromisoformat(before["as_of"]) + timedelta(days=1) == date.fromisoformat(
            after["period_start"]
        )
    monthly = await ok(
        await api.get(
            path,
            params={"from": str(TODAY - timedelta(days=70)), "to": str(TODAY), "interval": "month"},
        )
    )
    assert len(monthly["points"]) in (3, 4)
    assert all(date.fromisoformat(p["period_start"]).day == 1 for p in monthly["points"][1:])

    # The sub-portfolio alone; CSV one row per point; SVG with the series' points.
    below = await ok(
        await api.get(
            f"/api/v1/metrics/portfolios/{sub['id']}/history",
            params={"from": str(two_ago), "interval": "day"},
        )
    )
    assert [p["project_count"] for p in below["points"]] == [1, 1, 2]
    as_csv = await api.get(path, params={"from": str(two_ago), "interval": "day", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["as_of"] for r in rows] == [str(two_ago), str(yesterday), str(TODAY)]
    assert rows[1]["by_health.red"] == "1" and rows[2]["planned_budget"] == "400.41"
    chart = await api.get(
        path,
        params={"from": str(two_ago), "interval": "day"},
        headers={"Accept": "image/svg+xml"},
    )
    assert chart.status_code == 200, chart.text
    assert chart.headers["content-type"].startswith("image/svg+xml")
    for series in ("planned", "actual"):
        assert _points(chart.content, series) == 3, series
    for series in ("spi", "cpi", "compliance"):  # drawn, empty: nothing measured here
        assert _points(chart.content, series) == 0, series
    texts = {t.text for t in ET.fromstring(chart.content).iter(f"{SVG_NS}text")}
    assert str(TODAY) in "".join(t or "" for t in texts)
    assert c["id"]


async def test_as_of_answers_yesterday_after_today_changes(
    fresh: Api,  # noqa: F811
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = fresh
    yesterday = TODAY - timedelta(days=1)
    before = await api.get("/api/v1/metrics/summary", params={"as_of": str(yesterday)})
    problem = assert_problem(before, 422, "before_history")
    assert problem["earliest"] is None

    clock.day = yesterday
    portfolio = await api.make_portfolio()
    project = await api.make_project(
        portfolio["id"],
        planned_budget="1000.00",
        health="green",
        percent_complete=40,
        planned_start=str(yesterday - timedelta(days=50)),
        planned_end=str(yesterday + timedelta(days=50)),
    )
    await ok(await api.post(f"/api/v1/projects/{project['id']}/baselines", json={"name": "B"}), 201)
    await _snapshot(api, monkeypatch)

    clock.day = TODAY
    await ok(
        await api.patch(
            f"/api/v1/projects/{project['id']}",
            json={"health": "red", "planned_budget": "1500.00", "percent_complete": 90},
        )
    )
    params = {"as_of": str(yesterday)}
    then = await ok(await api.get(f"/api/v1/metrics/portfolios/{portfolio['id']}", params=params))
    now = await ok(await api.get(f"/api/v1/metrics/portfolios/{portfolio['id']}"))
    assert then["as_of"] == str(yesterday) and then["from_history"] is True
    assert then["by_health"] == {"green": 1, "amber": 0, "red": 0}
    assert now["by_health"] == {"green": 0, "amber": 0, "red": 1}
    assert then["budget"]["planned"] == 1000.0 and now["budget"]["planned"] == 1500.0
    assert then["earned_value"]["planned_value"] == 500.0  # day 50 of 100
    assert then["earned_value"]["earned_value"] == 400.0
    assert then["top_risks"] is None and now["top_risks"] == []
    summary = await ok(await api.get("/api/v1/metrics/summary", params=params))
    assert summary["budget"] == then["budget"]
    figures = await ok(await api.get(f"/api/v1/metrics/projects/{project['key']}", params=params))
    assert (figures["health"], figures["percent_complete"], figures["planned_budget"]) == (
        "green",
        40,
        1000.0,
    )
    assert figures["earned_value"]["spi"] == 0.8 and figures["from_history"] is True
    assert figures["open_risks"] is None
    today = await ok(
        await api.get(f"/api/v1/metrics/projects/{project['key']}", params={"as_of": str(TODAY)})
    )
    assert today["from_history"] is False and today["percent_complete"] == 90

    # Before the first snapshot, and in the future: 422, the earliest day said.
    too_early = {"as_of": str(yesterday - timedelta(days=1))}
    for path in (
        "/api/v1/metrics/summary",
        f"/api/v1/metrics/portfolios/{portfolio['id']}",
        f"/api/v1/metrics/projects/{project['id']}",
    ):
        problem = assert_problem(await api.get(path, params=too_early), 422, "before_history")
        assert problem["earliest"] == str(yesterday)
        future = {"as_of": str(TODAY + timedelta(days=1))}
        assert_problem(await api.get(path, params=future), 422, "as_of_in_future")
        assert_problem(await api.get(path, params={"as_of": "yesterday"}), 422)


async def test_a_submitted_status_report_takes_the_day_snapshot(
    fresh: Api,  # noqa: F811
) -> None:
    api = fresh
    portfolio = await api.make_portfolio()
    project = await api.make_project(portfolio["id"])
    report = {
        "period_start": str(TODAY - timedelta(days=7)),
        "period_end": str(TODAY),
        **{f"{part}_health": "amber" for part in ("overall", "schedule", "budget", "scope")},
        "summary": "slipping",
    }
    draft = await ok(
        await api.post(f"/api/v1/projects/{project['id']}/status-reports", json=report), 201
    )
    assert await _rows(api) == 0
    await ok(await api.post(f"/api/v1/status-reports/{draft['id']}/submit"))
    assert await _rows(api) == 1
    series = await ok(
        await api.get(
            f"/api/v1/metrics/portfolios/{portfolio['id']}/history",
            params={"from": str(TODAY), "interval": "day"},
        )
    )
    # The snapshot has the health the report set.
    assert series["points"][0]["by_health"] == {"green": 0, "amber": 1, "red": 0}


async def test_history_and_chart_refusals(api: Api) -> None:
    portfolio = await api.make_portfolio()
    path = f"/api/v1/metrics/portfolios/{portfolio['id']}/history"
    backwards = {"from": str(TODAY), "to": str(TODAY - timedelta(days=1))}
    assert_problem(await api.get(path, params=backwards), 422, "invalid_range")
    assert_problem(await api.get(path, params={"interval": "hour"}), 422)
    assert_problem(await api.get(path, params={"since": str(TODAY)}), 422)
    assert_problem(await api.get(path, params={"format": "png"}), 422)
    years = {"from": "2000-01-01", "interval": "day"}
    assert_problem(await api.get(path, params=years), 422, "too_many_points")
    assert_problem(await api.get("/api/v1/metrics/portfolios/NOPE-1/history"), 404)
    chart = await api.get(f"/api/v1/metrics/portfolios/{portfolio['id']}", params={"format": "svg"})
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg")
    root = ET.fromstring(chart.content)
    assert root.tag == f"{SVG_NS}svg"
    assert any(g.get("id") == "health-red" for g in root.iter(f"{SVG_NS}g"))
    # A portfolio cycle is refused where it would be made.
    child = await api.make_portfolio(parent_id=portfolio["id"])
    cycle = await api.patch(
        f"/api/v1/portfolios/{portfolio['id']}", json={"parent_id": child["id"]}
    )
    assert cycle.status_code in (409, 422), cycle.text
    assert cycle.headers["content-type"].startswith("application/problem+json")
