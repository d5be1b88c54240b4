"""Project templates (``standards/templates.py``, ``standards/instantiation.py``): a
versioned standard holding a methodology, default fields, milestones as offsets from
the start, standard risks and deliverables; ``POST /projects`` with ``template`` makes
a project with all of these in one transaction. REST and GraphQL, both databases."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from tests.conftest import Api, new_key
from tests.test_raid import audit, data, ok
from tests.test_rest_conventions import assert_problem

TEMPLATES = "/api/v1/standards/templates"
METHODOLOGIES = "/api/v1/standards/methodologies"


async def _methodology(api: Api) -> dict[str, Any]:
    body = {
        "key": new_key("ME"),
        "name": "Agile",
        "phases": [{"name": "discovery"}, {"name": "delivery"}],
    }
    draft = await ok(await api.post(METHODOLOGIES, json=body), 201)
    return await ok(await api.post(f"{METHODOLOGIES}/{draft['id']}/publish"))


def _template(methodology_key: str | None, key: str | None = None) -> dict[str, Any]:
    return {
        "key": key or new_key("TE"),
        "name": "IT project",
        "description": "A software delivery.",
        "methodology": methodology_key,
        "defaults": {
            "description": "Made from the IT template.",
            "priority_score": 60,
            "planned_budget": 250000,
            "duration_days": 180,
            "attributes": {"cost_center": "IT-1", "capex": True},
        },
        "milestones": [
            {"name": "Kick-off", "offset_days": 0},
            {"name": "Go-live", "offset_days": 150, "description": "Production."},
        ],
        "risks": [{"title": "Key people leave", "probability": 2, "impact": 4}],
        "deliverables": [
            {"name": "Project charter", "phase": "discovery", "offset_days": 14},
        ],
    }


async def _published(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    draft = await ok(await api.post(TEMPLATES, "pmo", json=body), 201)
    return await ok(await api.post(f"{TEMPLATES}/{draft['id']}/publish", "pmo"))


async def test_a_project_made_from_a_template_has_all_of_it(api: Api) -> None:
    methodology = await _methodology(api)
    template = await _published(api, _template(methodology["key"]))
    assert template["defaults"]["duration_days"] == 180
    assert template["milestones"][1] == {
        "name": "Go-live",
        "description": "Production.",
        "offset_days": 150,
    }
    portfolio = await api.make_portfolio()
    body = {
        "key": new_key(),
        "name": "CRM",
        "portfolio_id": portfolio["id"],
        "template": template["key"],
        "planned_start": "2027-01-04",
        "priority_score": 80,
        "attributes": {"capex": False},
        "manager_id": api.people["manager"]["id"],
    }
    project = await ok(await api.post("/api/v1/projects", "manager", json=body), 201)
    assert "template" not in project
    assert project["template_id"] == template["id"]
    assert (project["methodology_id"], project["phase"]) == (methodology["id"], "discovery")
    # The body wins; the template fills what it leaves out; attributes are merged.
    assert project["priority_score"] == 80
    assert project["description"] == "Made from the IT template."
    assert project["planned_budget"] == 250000
    assert project["attributes"] == {"cost_center": "IT-1", "capex": False}
    start = date(2027, 1, 4)
    assert project["planned_end"] == str(start + timedelta(days=180))
    path = f"/api/v1/projects/{project['id']}"
    milestones = (await ok(await api.get(f"{path}/milestones", params={"sort": "due_date"})))[
        "items"
    ]
    assert [(m["name"], m["due_date"]) for m in milestones] == [
        ("Kick-off", "2027-01-04"),
        ("Go-live", str(start + timedelta(days=150))),
    ]
    risks = (await ok(await api.get(f"{path}/risks")))["items"]
    assert [(r["title"], r["score"]) for r in risks] == [("Key people leave", 8)]
    deliverables = (await ok(await api.get(f"{path}/deliverables")))["items"]
    assert [(d["name"], d["phase"], d["due_date"]) for d in deliverables] == [
        ("Project charter", "discovery", "2027-01-18")
    ]
    created = (await audit(api, project["id"]))[0]
    assert created["action"] == "project.created"
    assert created["changes"]["template_id"]["after"] == template["id"]
    assert [e["action"] for e in await audit(api, risks[0]["id"])] == ["risk.raised"]


async def test_the_planned_start_defaults_to_today_and_a_revision_id_names_a_template(
    api: Api,
) -> None:
    template = await _published(api, {**_template(None), "milestones": [], "risks": []})
    project = await api.make_project(template=template["id"])
    today = date.today()
    assert project["planned_start"] in (str(today), str(today + timedelta(days=1)))
    assert project["methodology_id"] is None
    assert project["template_id"] == template["id"]


async def test_a_template_not_in_force_makes_nothing(api: Api) -> None:
    portfolio = await api.make_portfolio()
    draft = await ok(await api.post(TEMPLATES, json=_template(None)), 201)
    unpublished_methodology = await _published(api, _template(new_key("ME")))

    def body(template: str) -> dict[str, Any]:
        return {
            "key": new_key(),
            "name": "P",
            "portfolio_id": portfolio["id"],
            "template": template,
        }

    counts = await api.table_counts()
    refused = await api.post("/api/v1/projects", json=body(draft["id"]))
    assert_problem(refused, 422, "template_not_published")
    assert refused.json()["errors"][0]["loc"] == ["body", "template"]
    assert_problem(
        await api.post("/api/v1/projects", json=body(draft["key"])), 422, "template_not_found"
    )
    assert_problem(
        await api.post("/api/v1/projects", json=body(str(uuid.uuid4()))),
        422,
        "template_not_found",
    )
    assert_problem(
        await api.post("/api/v1/projects", json=body(unpublished_methodology["key"])),
        422,
        "methodology_not_published",
    )
    assert_problem(await api.post("/api/v1/projects", json=body("lower")), 422)
    assert await api.table_counts() == counts


async def test_bad_templates_are_refused_with_the_place(api: Api) -> None:
    counts = await api.table_counts()
    body = _template(None)
    body["milestones"][1]["offset_days"] = -1
    refused = await api.post(TEMPLATES, json=body)
    assert_problem(refused, 422)
    assert refused.json()["errors"][0]["loc"] == ["body", "milestones", 1, "offset_days"]
    body = _template(None)
    body["risks"][0]["impact"] = 9
    refused = await api.post(TEMPLATES, json=body)
    assert refused.json()["errors"][0]["loc"] == ["body", "risks", 0, "impact"]
    body = _template(None)
    body["defaults"]["status"] = "active"
    refused = await api.post(TEMPLATES, json=body)
    assert refused.json()["errors"][0]["loc"] == ["body", "defaults", "status"]
    assert_problem(await api.post(TEMPLATES, "manager", json=_template(None)), 403)
    assert await api.table_counts() == counts


CREATE = """mutation($input: CreateProjectInput!) {
  createProject(input: $input) {
    __typename
    ... on ProjectPayload { project { key priorityScore template { key revision }
        methodology milestones { edges { node { name dueDate } } } } }
    ... on ValidationError { code errors { loc } }
  }
}"""


async def test_a_project_from_a_template_over_graphql(api: Api) -> None:
    template = await _published(api, _template(None))
    portfolio = await api.make_portfolio()
    key = new_key()
    made = data(
        await api.gql(
            CREATE,
            {
                "input": {
                    "key": key,
                    "name": "G",
                    "portfolioId": portfolio["id"],
                    "template": template["key"],
                    "plannedStart": "2027-03-01",
                }
            },
        )
    )["createProject"]["project"]
    assert made["key"] == key and made["priorityScore"] == 60
    assert made["template"] == {"key": template["key"], "revision": 1}
    assert [e["node"]["name"] for e in made["milestones"]["edges"]] == ["Kick-off", "Go-live"]
    refused = data(
        await api.gql(
            CREATE,
            {
                "input": {
                    "key": new_key(),
                    "name": "G",
                    "portfolioId": portfolio["id"],
                    "template": "NO-SUCH-TEMPLATE",
                }
            },
        )
    )["createProject"]
    assert refused["code"] == "template_not_found"
    assert refused["errors"][0]["loc"] == ["input", "template"]
