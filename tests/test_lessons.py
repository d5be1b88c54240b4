"""Lessons learned (``lessons/``) and the compliance check that reads them
(``lessons_recorded``): recorded per project, listed and searched across projects, a
rule and a gate that require them before closing. Both databases."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Api, new_key
from tests.test_policies import _lists_agree_with_reports, _published, _rule
from tests.test_raid import audit, ok
from tests.test_rest_conventions import assert_problem

LESSONS = "/api/v1/lessons"


def _lesson(project: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "project_id": project["id"],
        "category": "vendors",
        "title": "Sign the vendor early",
        "what_happened": "The contract took three months; the build waited.",
        "recommendation": "Start procurement in initiation.",
        "tags": ["procurement"],
        **fields,
    }


async def test_lessons_are_recorded_listed_and_searched(api: Api) -> None:
    own = await api.make_project(manager_id=api.people["manager"]["id"])
    other = await api.make_project()
    made = await ok(await api.post(LESSONS, "manager", json=_lesson(own)), 201)
    assert (made["author"], made["author_person_id"]) == (
        "test manager",
        api.people["manager"]["id"],
    )
    assert made["tags"] == ["procurement"]
    assert [e["action"] for e in await audit(api, made["id"])] == ["lesson.created"]
    counts = await api.table_counts()
    assert_problem(await api.post(LESSONS, "manager", json=_lesson(other)), 403, "lesson_forbidden")
    assert_problem(await api.post(LESSONS, "viewer", json=_lesson(own)), 403)
    missing = await api.post(LESSONS, json=_lesson({"id": str(uuid.uuid4())}))
    assert_problem(missing, 422, "project_not_found")
    assert_problem(await api.post(LESSONS, json={**_lesson(own), "tags": ["x"] * 21}), 422)
    assert await api.table_counts() == counts

    await ok(
        await api.post(
            LESSONS, json=_lesson(other, category="planning", title="Plan the cut-over")
        ),
        201,
    )
    by_project = await ok(await api.get(LESSONS, params={"project_id": own["id"]}))
    assert [item["id"] for item in by_project["items"]] == [made["id"]]
    searched = await ok(await api.get(LESSONS, params={"q": "cut-over", "limit": 200}))
    assert "Plan the cut-over" in {item["title"] for item in searched["items"]}
    assert made["id"] not in {item["id"] for item in searched["items"]}
    planning = await ok(await api.get(LESSONS, params={"category": "planning", "limit": 200}))
    assert {item["category"] for item in planning["items"]} == {"planning"}
    changed = await ok(
        await api.patch(f"{LESSONS}/{made['id']}", "manager", json={"title": "Sign early"})
    )
    assert changed["title"] == "Sign early"
    assert_problem(
        await api.patch(f"{LESSONS}/{made['id']}", "manager", json={"project_id": other["id"]}),
        422,
    )


async def test_closing_can_require_lessons(api: Api) -> None:
    case = uuid.uuid4().hex[:12]
    portfolio = await api.make_portfolio()
    closing = {"attributes.case": {"eq": case}, "phase": {"eq": "closure"}}
    rule = _rule("LESSONS", "lessons_recorded", case, "high", count=2)
    rule["applies_when"] = closing
    gate_rule = _rule("LESSONS-GATE", "lessons_recorded", case)
    policy = await _published(api, [rule, gate_rule])
    methodology = await ok(
        await api.post(
            "/api/v1/standards/methodologies",
            json={
                "key": new_key("ME"),
                "name": "Closing",
                "phases": [
                    {"name": "execution"},
                    {"name": "closure", "gate": {"rules": ["LESSONS-GATE"]}},
                ],
            },
        ),
        201,
    )
    await ok(await api.post(f"/api/v1/standards/methodologies/{methodology['id']}/publish"))
    project = await api.make_project(
        portfolio["id"], methodology_id=methodology["id"], attributes={"case": case}
    )
    transitions = f"/api/v1/projects/{project['id']}/transitions"
    refused = await api.post(transitions, json={"to_phase": "closure"})
    assert_problem(refused, 409, "gate_not_met")
    (unmet,) = refused.json()["unmet"]
    assert unmet["name"] == "LESSONS-GATE"
    assert "0 lesson(s) recorded (1 required)" in unmet["reason"]

    await ok(await api.post(LESSONS, json=_lesson(project)), 201)
    await ok(await api.post(transitions, json={"to_phase": "closure"}), 201)
    report = await ok(await api.get(f"/api/v1/projects/{project['id']}/compliance"))
    verdict = next(r for r in report["rules"] if r["rule"] == "LESSONS")
    assert (verdict["outcome"], verdict["figures"]) == ("fail", {"lessons": 1, "required": 2})
    await api.make_project(portfolio["id"], attributes={"case": case})  # not closing: n/a
    await _lists_agree_with_reports(api, portfolio, policy["key"])
    await ok(await api.post(LESSONS, json=_lesson(project, title="Second")), 201)
    report = await ok(await api.get(f"/api/v1/projects/{project['id']}/compliance"))
    assert next(r for r in report["rules"] if r["rule"] == "LESSONS")["outcome"] == "pass"
