"""The PMO's screen in one GraphQL query: a page of projects with their open risks, next
milestone and latest status report, at a cost in SQL statements that does not grow with
the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Api

TODAY = datetime.now(UTC).date()

PAGE = """query($first: Int!, $pf: ID!) {
  projects(first: $first, filter: {portfolioId: $pf}) {
    nodes {
      key
      openRiskCount
      nextMilestone { name dueDate overdue }
      latestStatusReport { overallHealth periodEnd openRisks }
      portfolio { key }
      manager { name }
    }
  }
}"""


async def _project_with_records(api: Api, portfolio: dict[str, Any], n: int) -> None:
    manager = await api.make_person(name=f"Manager {n}")
    project = await api.make_project(portfolio["id"], key=f"GQ-{n:03d}", manager_id=manager["id"])
    base = f"/api/v1/projects/{project['id']}"
    for status in ("open", "mitigating", "closed")[: 1 + n % 3]:
        body = {"title": "r", "probability": 2, "impact": 2, "status": status}
        assert (await api.post(f"{base}/risks", json=body)).status_code == 201
    for days in (n % 5 - 2, 30):
        body = {"name": f"due {days}", "due_date": str(TODAY + timedelta(days=days))}
        assert (await api.post(f"{base}/milestones", json=body)).status_code == 201
    if n % 2:
        health = {f"{p}_health": "amber" for p in ("overall", "schedule", "budget", "scope")}
        report = {
            "period_start": str(TODAY - timedelta(days=7)),
            "period_end": str(TODAY),
            "resources_health": "green",
            "summary": "s",
            **health,
        }
        created = await api.post(f"{base}/status-reports", json=report)
        assert created.status_code == 201, created.text
        submitted = await api.post(f"/api/v1/status-reports/{created.json()['id']}/submit")
        assert submitted.status_code == 200, submitted.text


async def test_a_page_of_projects_with_risks_milestones_and_reports(api: Api) -> None:
    portfolio = await api.make_portfolio()
    for n in range(100):
        await _project_with_records(api, portfolio, n)
    counts = {}
    for first in (10, 100):
        with api.count_statements() as counter:
            body = await api.gql(PAGE, {"first": first, "pf": portfolio["id"]})
        assert "errors" not in body, body
        nodes = body["data"]["projects"]["nodes"]
        assert len(nodes) == first
        counts[first] = counter.count
        for n, node in enumerate(nodes):
            assert node["key"] == f"GQ-{n:03d}"
            assert node["openRiskCount"] == min(1 + n % 3, 2)
            days = n % 5 - 2
            assert node["nextMilestone"] == {
                "name": f"due {days}",
                "dueDate": str(TODAY + timedelta(days=days)),
                "overdue": days < 0,
            }
            if n % 2:
                assert node["latestStatusReport"] == {
                    "overallHealth": "AMBER",
                    "periodEnd": str(TODAY),
                    "openRisks": min(1 + n % 3, 2),
                }
            else:
                assert node["latestStatusReport"] is None
            assert node["portfolio"] == {"key": portfolio["key"]}
            assert node["manager"] == {"name": f"Manager {n}"}
    assert counts[10] == counts[100]
    # key look-up, the page (open risk counts in it), next milestones, latest reports,
    # portfolios, people; + BEGIN on SQLite
    assert counts[100] == (7 if api.backend == "sqlite" else 6), counts
