"""Methodologies and a project's way through them (``standards/phases.py``,
``lifecycle/``): versioned methodologies, projects following a revision, transitions
through gates refused with every unmet criterion named, gate reviews, going back with
a reason, an admin's forced transition, a kill that cancels; REST and GraphQL, both
databases."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Api, new_key
from tests.test_raid import audit, data, ok
from tests.test_rest_conventions import assert_problem

METHODOLOGIES = "/api/v1/standards/methodologies"
POLICIES = "/api/v1/standards/policies"


def _methodology(phases: list[dict[str, Any]], key: str | None = None) -> dict[str, Any]:
    return {"key": key or new_key("ME"), "name": "Stage-gate", "phases": phases}


STAGE_GATE = [
    {"name": "initiation"},
    {
        "name": "planning",
        "gate": {"deliverables": ["Project charter"], "approver_roles": ["sponsor", "pmo"]},
    },
    {"name": "execution", "gate": {"approver_roles": ["sponsor"]}},
    {"name": "closing"},
]


async def _published(api: Api, phases: list[dict[str, Any]]) -> dict[str, Any]:
    draft = await ok(await api.post(METHODOLOGIES, "pmo", json=_methodology(phases)), 201)
    return await ok(await api.post(f"{METHODOLOGIES}/{draft['id']}/publish", "pmo"))


async def _following(api: Api, methodology: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return await api.make_project(methodology_id=methodology["id"], **fields)


def _transitions(project: dict[str, Any]) -> str:
    return f"/api/v1/projects/{project['id']}/transitions"


def _reviews(project: dict[str, Any]) -> str:
    return f"/api/v1/projects/{project['id']}/gate-reviews"


async def _review(
    api: Api, project: dict[str, Any], phase: str, role: str, decision: str, **extra: Any
) -> dict[str, Any]:
    body = {"phase": phase, "role": role, "decision": decision, **extra}
    return await ok(await api.post(_reviews(project), "pmo", json=body), 201)


# --- methodologies and the projects following them -------------------------------------------


async def test_a_project_keeps_its_methodology_revision_until_moved(api: Api) -> None:
    key = new_key("ME")
    draft = await ok(await api.post(METHODOLOGIES, "pmo", json=_methodology(STAGE_GATE, key)), 201)
    assert (draft["revision"], draft["status"]) == (1, "draft")
    assert draft["phases"][1]["gate"]["approver_roles"] == ["sponsor", "pmo"]
    assert draft["phases"][0]["gate"] == {"deliverables": [], "approver_roles": [], "rules": []}
    # A draft is not followed.
    portfolio = await api.make_portfolio()
    refused = await api.post(
        "/api/v1/projects",
        json={
            "key": new_key(),
            "name": "P",
            "portfolio_id": portfolio["id"],
            "methodology_id": draft["id"],
        },
    )
    assert_problem(refused, 422, "methodology_not_published")
    first = await ok(await api.post(f"{METHODOLOGIES}/{draft['id']}/publish", "pmo"))
    project = await _following(api, first)
    assert (project["methodology_id"], project["methodology"], project["phase"]) == (
        first["id"],
        key,
        "initiation",
    )
    # Published: immutable; a change is a new revision, which projects do not follow
    # until moved on purpose.
    path = f"{METHODOLOGIES}/{first['id']}"
    assert_problem(await api.patch(path, json={"name": "X"}), 409, "standard_not_draft")
    renamed = [dict(p) for p in STAGE_GATE]
    renamed[0] = {"name": "initiation", "description": "Say why."}
    second = await ok(
        await api.put(
            f"{METHODOLOGIES}/{key}", "pmo", json={"name": "Stage-gate", "phases": renamed}
        ),
        201,
    )
    assert (second["revision"], second["status"]) == (2, "draft")
    await ok(await api.post(f"{METHODOLOGIES}/{second['id']}/publish", "pmo"))
    assert (await ok(await api.get(path)))["status"] == "retired"
    still = await ok(await api.get(f"/api/v1/projects/{project['id']}"))
    assert still["methodology_id"] == first["id"]
    moved = await ok(
        await api.patch(f"/api/v1/projects/{project['id']}", json={"methodology_id": second["id"]})
    )
    assert (moved["methodology_id"], moved["phase"]) == (second["id"], "initiation")
    # A retired revision is followed by those on it, but nobody moves onto it.
    assert_problem(
        await api.patch(f"/api/v1/projects/{project['id']}", json={"methodology_id": first["id"]}),
        422,
        "methodology_not_published",
    )
    listed = await ok(await api.get("/api/v1/projects", params={"methodology_id": second["id"]}))
    assert [p["id"] for p in listed["items"]] == [project["id"]]


async def test_a_followed_phase_is_one_of_the_methodology_and_moves_by_transition(
    api: Api,
) -> None:
    methodology = await _published(api, STAGE_GATE)
    portfolio = await api.make_portfolio()
    body = {
        "key": new_key(),
        "name": "P",
        "portfolio_id": portfolio["id"],
        "methodology_id": methodology["id"],
    }
    counts = await api.table_counts()
    refused = await api.post("/api/v1/projects", json={**body, "phase": "design"})
    assert_problem(refused, 422, "unknown_phase")
    assert refused.json()["errors"][0]["loc"] == ["body", "phase"]
    assert_problem(
        await api.post("/api/v1/projects", json={**body, "methodology_id": str(uuid.uuid4())}),
        422,
        "methodology_not_found",
    )
    assert await api.table_counts() == counts
    project = await ok(await api.post("/api/v1/projects", json={**body, "phase": "planning"}), 201)
    assert project["phase"] == "planning"
    path = f"/api/v1/projects/{project['id']}"
    assert_problem(await api.patch(path, json={"phase": "closing"}), 409, "phase_by_transition")
    assert_problem(
        await api.patch(path, json={"methodology": "Agile"}), 409, "methodology_by_reference"
    )
    # Another revision without the project's phase: the move names one.
    other = await _published(api, [{"name": "discovery"}, {"name": "delivery"}])
    assert_problem(
        await api.patch(path, json={"methodology_id": other["id"]}), 422, "unknown_phase"
    )
    moved = await ok(
        await api.patch(path, json={"methodology_id": other["id"], "phase": "delivery"})
    )
    assert (moved["methodology"], moved["phase"]) == (other["key"], "delivery")
    # A project without a methodology sets its phase freely, and has no transitions.
    free = await api.make_project(phase="anything")
    assert (await ok(await api.patch(f"/api/v1/projects/{free['id']}", json={"phase": "x"})))[
        "phase"
    ] == "x"
    assert_problem(
        await api.post(_transitions(free), json={"to_phase": "y"}), 409, "no_methodology"
    )


async def test_bad_methodologies_are_refused_with_the_place(api: Api) -> None:
    counts = await api.table_counts()
    twice = await api.post(
        METHODOLOGIES, json=_methodology([{"name": "a"}, {"name": "b"}, {"name": "a"}])
    )
    assert_problem(twice, 422, "duplicate_phase")
    assert twice.json()["errors"][0]["loc"] == ["body", "phases", 2, "name"]
    empty = await api.post(METHODOLOGIES, json=_methodology([]))
    assert_problem(empty, 422)
    assert empty.json()["errors"][0]["loc"] == ["body", "phases"]
    unknown = await api.post(
        METHODOLOGIES, json=_methodology([{"name": "a", "gate": {"approvers": ["x"]}}])
    )
    assert_problem(unknown, 422)
    assert unknown.json()["errors"][0]["loc"] == ["body", "phases", 0, "gate", "approvers"]
    bad_rule = await api.post(
        METHODOLOGIES, json=_methodology([{"name": "a", "gate": {"rules": ["lower case"]}}])
    )
    assert_problem(bad_rule, 422)
    assert bad_rule.json()["errors"][0]["loc"] == ["body", "phases", 0, "gate", "rules", 0]
    assert_problem(
        await api.post(METHODOLOGIES, "manager", json=_methodology(STAGE_GATE)),
        403,
        "role_forbidden",
    )
    assert await api.table_counts() == counts


# --- transitions through gates -----------------------------------------------------------------


async def test_a_transition_is_refused_for_each_unmet_criterion_then_allowed(api: Api) -> None:
    case = uuid.uuid4().hex[:12]
    rule = {
        "code": "GATE-BASELINE",
        "title": "A baseline before planning ends",
        "applies_when": {"attributes.case": {"eq": case}},
        "check": {"type": "baseline_present", "params": {}},
    }
    policy = await ok(
        await api.post(
            POLICIES, "pmo", json={"key": new_key("PO"), "title": "Gates", "rules": [rule]}
        ),
        201,
    )
    await ok(await api.post(f"{POLICIES}/{policy['id']}/publish", "pmo"))
    phases = [
        {"name": "initiation"},
        {
            "name": "planning",
            "gate": {
                "deliverables": ["Project charter"],
                "approver_roles": ["sponsor"],
                "rules": ["GATE-BASELINE", "NO-SUCH-RULE"],
            },
        },
    ]
    methodology = await _published(api, phases)
    project = await _following(
        api, methodology, manager_id=api.people["manager"]["id"], attributes={"case": case}
    )

    refused = await api.post(_transitions(project), "manager", json={"to_phase": "planning"})
    assert_problem(refused, 409, "gate_not_met")
    unmet = {(u["criterion"], u["name"]): u for u in refused.json()["unmet"]}
    assert set(unmet) == {
        ("deliverable", "Project charter"),
        ("approval", "sponsor"),
        ("rule", "GATE-BASELINE"),
        ("rule", "NO-SUCH-RULE"),
    }
    assert "no deliverable" in unmet[("deliverable", "Project charter")]["reason"]
    assert "No gate review" in unmet[("approval", "sponsor")]["reason"]
    assert "no baseline" in unmet[("rule", "GATE-BASELINE")]["reason"].lower()
    assert "No policy in force" in unmet[("rule", "NO-SUCH-RULE")]["reason"]
    assert "Project charter" in refused.json()["detail"]

    # Each criterion met in turn; the refusal names what is left.
    charter = await ok(
        await api.post(
            f"/api/v1/projects/{project['id']}/deliverables",
            json={"name": "Project charter", "due_date": "2027-01-01"},
        ),
        201,
    )
    again = (await api.post(_transitions(project), json={"to_phase": "planning"})).json()
    assert "submitted" not in again["detail"]
    charter_unmet = next(u for u in again["unmet"] if u["criterion"] == "deliverable")
    assert "planned, not accepted" in charter_unmet["reason"]
    await ok(await api.patch(f"/api/v1/deliverables/{charter['id']}", json={"status": "accepted"}))
    await _review(api, project, "planning", "sponsor", "hold", comment="Budget unclear")
    held = (await api.post(_transitions(project), json={"to_phase": "planning"})).json()
    approval = next(u for u in held["unmet"] if u["criterion"] == "approval")
    assert "decided hold: Budget unclear" in approval["reason"]
    await _review(api, project, "planning", "sponsor", "go")
    await ok(await api.post(f"/api/v1/projects/{project['id']}/baselines", json={"name": "B"}), 201)
    left = (await api.post(_transitions(project), json={"to_phase": "planning"})).json()
    assert [(u["criterion"], u["name"]) for u in left["unmet"]] == [("rule", "NO-SUCH-RULE")]

    # The methodology drops the missing rule (a new revision the project is moved to).
    phases[1]["gate"]["rules"] = ["GATE-BASELINE"]
    fixed = await ok(
        await api.put(
            f"{METHODOLOGIES}/{methodology['key']}",
            json={"name": "Stage-gate", "phases": phases},
        ),
        201,
    )
    await ok(await api.post(f"{METHODOLOGIES}/{fixed['id']}/publish"))
    await ok(
        await api.patch(f"/api/v1/projects/{project['id']}", json={"methodology_id": fixed["id"]})
    )
    # The sponsor's go was given since the last transition: it still counts.
    moved = await ok(
        await api.post(_transitions(project), "manager", json={"to_phase": "planning"}), 201
    )
    assert (moved["from_phase"], moved["to_phase"], moved["direction"]) == (
        "initiation",
        "planning",
        "forward",
    )
    assert (moved["forced"], moved["unmet"], moved["made_by"]) == (False, [], "test manager")
    assert moved["made_by_person_id"] == api.people["manager"]["id"]
    after = await ok(await api.get(f"/api/v1/projects/{project['id']}"))
    assert after["phase"] == "planning"
    actions = [e["action"] for e in await audit(api, moved["id"])]
    assert actions == ["transition.made"]
    trail = await audit(api, project["id"])
    assert trail[-1]["action"] == "project.phase_changed"
    assert trail[-1]["changes"]["phase"] == {"before": "initiation", "after": "planning"}
    listed = await ok(await api.get(_transitions(project)))
    assert [t["id"] for t in listed["items"]] == [moved["id"]]


async def test_moves_back_with_a_reason_one_phase_at_a_time_and_forced_by_an_admin(
    api: Api,
) -> None:
    methodology = await _published(api, STAGE_GATE)
    project = await _following(api, methodology)
    path = _transitions(project)
    assert_problem(await api.post(path, json={"to_phase": "execution"}), 409, "phase_not_next")
    assert_problem(await api.post(path, json={"to_phase": "initiation"}), 409, "already_in_phase")
    unknown = await api.post(path, json={"to_phase": "design"})
    assert_problem(unknown, 422, "unknown_phase")
    assert unknown.json()["errors"][0]["loc"] == ["body", "to_phase"]

    # Forcing: admin only, with a justification.
    counts = await api.table_counts()
    forced_body = {"to_phase": "planning", "force": True, "justification": "Board decision"}
    assert_problem(await api.post(path, "pmo", json=forced_body), 403, "force_forbidden")
    assert_problem(
        await api.post(path, json={"to_phase": "planning", "force": True}),
        422,
        "justification_required",
    )
    assert_problem(
        await api.post(path, json={"to_phase": "planning", "justification": "x"}),
        422,
        "justification_without_force",
    )
    assert await api.table_counts() == counts
    forced = await ok(await api.post(path, json=forced_body), 201)
    assert (forced["force"], forced["forced"], forced["justification"]) == (
        True,
        True,
        "Board decision",
    )
    assert {(u["criterion"], u["name"]) for u in forced["unmet"]} == {
        ("deliverable", "Project charter"),
        ("approval", "sponsor"),
        ("approval", "pmo"),
    }
    event = (await audit(api, forced["id"]))[0]
    assert event["action"] == "transition.made"
    assert event["changes"]["forced"]["after"] is True
    assert event["changes"]["justification"]["after"] == "Board decision"

    # Back a phase: a reason is required; no gate is asked.
    assert_problem(await api.post(path, json={"to_phase": "initiation"}), 422, "reason_required")
    back = await ok(
        await api.post(path, "pmo", json={"to_phase": "initiation", "reason": "Rescope"}), 201
    )
    assert (back["direction"], back["from_phase"], back["reason"]) == (
        "back",
        "planning",
        "Rescope",
    )
    assert (await ok(await api.get(f"/api/v1/projects/{project['id']}")))["phase"] == "initiation"
    # A viewer moves nothing.
    assert_problem(await api.post(path, "viewer", json={"to_phase": "initiation"}), 403)


async def test_a_kill_by_every_required_role_cancels_the_project(api: Api) -> None:
    methodology = await _published(api, STAGE_GATE)
    project = await _following(api, methodology, manager_id=api.people["manager"]["id"])
    # A manager does not approve the gates of their own project.
    assert_problem(
        await api.post(
            _reviews(project),
            "manager",
            json={"phase": "planning", "role": "sponsor", "decision": "go"},
        ),
        403,
        "gate_review_forbidden",
    )
    refused = await api.post(
        _reviews(project), json={"phase": "nowhere", "role": "sponsor", "decision": "go"}
    )
    assert_problem(refused, 422, "unknown_phase")
    review = await _review(api, project, "planning", "sponsor", "kill", comment="No business case")
    assert (review["reviewer"], review["methodology_id"]) == ("test pmo", methodology["id"])
    assert (await audit(api, review["id"]))[0]["action"] == "gate_review.recorded"
    # One of the two roles: not yet.
    same = await ok(await api.get(f"/api/v1/projects/{project['id']}"))
    assert same["status"] == "proposed"
    await _review(api, project, "planning", "pmo", "kill")
    cancelled = await ok(await api.get(f"/api/v1/projects/{project['id']}"))
    assert cancelled["status"] == "cancelled"
    assert_problem(
        await api.post(
            _transitions(project),
            json={"to_phase": "planning", "force": True, "justification": "x"},
        ),
        409,
        "project_closed",
    )
    listed = await ok(await api.get(_reviews(project), params={"decision": "kill"}))
    assert len(listed["items"]) == 2


# --- GraphQL -------------------------------------------------------------------------------------

MAKE = """mutation($project: ID!, $input: MakeTransitionInput!) {
  makeTransition(projectId: $project, input: $input) {
    __typename
    ... on TransitionPayload { transition { fromPhase toPhase forced methodology { key } } }
    ... on ConflictError { code unmet { criterion name reason } }
  }
}"""

REVIEW = """mutation($project: ID!, $input: RecordGateReviewInput!) {
  recordGateReview(projectId: $project, input: $input) {
    __typename ... on GateReviewPayload { gateReview { decision role } }
  }
}"""


async def test_transitions_and_gate_reviews_over_graphql(api: Api) -> None:
    methodology = await _published(api, [*STAGE_GATE[:1], STAGE_GATE[2]])
    project = await _following(api, methodology)
    refused = data(
        await api.gql(MAKE, {"project": project["id"], "input": {"toPhase": "execution"}})
    )
    assert refused["makeTransition"]["code"] == "gate_not_met"
    assert refused["makeTransition"]["unmet"] == [
        {
            "criterion": "approval",
            "name": "sponsor",
            "reason": "No gate review by the role 'sponsor' yet.",
        }
    ]
    recorded = data(
        await api.gql(
            REVIEW,
            {
                "project": project["id"],
                "input": {"phase": "execution", "role": "sponsor", "decision": "GO"},
            },
        )
    )
    assert recorded["recordGateReview"]["gateReview"] == {"decision": "GO", "role": "sponsor"}
    made = data(await api.gql(MAKE, {"project": project["id"], "input": {"toPhase": "execution"}}))
    assert made["makeTransition"]["transition"] == {
        "fromPhase": "initiation",
        "toPhase": "execution",
        "forced": False,
        "methodology": {"key": methodology["key"]},
    }
    listed = data(
        await api.gql(
            """query($id: String!) { project(idOrKey: $id) { phase methodology
                methodologyRevision { key revision status }
                transitions { edges { node { toPhase } } }
                gateReviews { edges { node { role decision } } } } }""",
            {"id": project["id"]},
        )
    )["project"]
    assert listed["phase"] == "execution"
    assert listed["methodology"] == methodology["key"]
    assert listed["methodologyRevision"] == {
        "key": methodology["key"],
        "revision": 1,
        "status": "PUBLISHED",
    }
    assert [e["node"]["toPhase"] for e in listed["transitions"]["edges"]] == ["execution"]
    assert len(listed["gateReviews"]["edges"]) == 1
