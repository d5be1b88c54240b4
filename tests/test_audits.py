"""Audits and findings (``audits/``): an audit's whole life (its checklist drawn from
the standards the project follows, answered, scored, completed and frozen), findings
raised by hand and from failing rules, remediated, resolved and accepted under the
object rules, the list across audits and the report by severity and age. Both
databases."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from tests.conftest import Api, new_key
from tests.test_policies import _published, _rule
from tests.test_raid import audit, counts, data, gid, ok
from tests.test_rest_conventions import assert_problem

AUDITS = "/api/v1/audits"
FINDINGS = "/api/v1/findings"
TODAY = date.today()


async def _audited_project(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """A project the ``manager`` key manages, following a methodology with gates, with
    a policy in force whose rule fails on it (no baseline) and one that passes."""
    case = uuid.uuid4().hex[:12]
    policy = await _published(
        api,
        [
            _rule("NEEDS-BASELINE", "baseline_present", case, "high"),
            _rule("HAS-FIELD", "field_present", case, "low", field="attributes.case"),
        ],
    )
    methodology = await ok(
        await api.post(
            "/api/v1/standards/methodologies",
            json={
                "key": new_key("ME"),
                "name": "Gated",
                "phases": [
                    {"name": "initiation"},
                    {
                        "name": "planning",
                        "gate": {"deliverables": ["Charter"], "approver_roles": ["sponsor"]},
                    },
                    {"name": "execution", "gate": {"rules": ["NEEDS-BASELINE"]}},
                    {"name": "closure", "gate": {"deliverables": ["Handover"]}},
                ],
            },
        ),
        201,
    )
    await ok(await api.post(f"/api/v1/standards/methodologies/{methodology['id']}/publish"))
    portfolio = await api.make_portfolio()
    project = await api.make_project(
        portfolio["id"],
        manager_id=api.people["manager"]["id"],
        methodology_id=methodology["id"],
        attributes={"case": case},
    )
    return project, policy


def _audit(project: dict[str, Any], api: Api, **fields: Any) -> dict[str, Any]:
    return {
        "project_id": project["id"],
        "type": "compliance_review",
        "auditor_id": api.people["manager"]["id"],
        "planned_on": str(TODAY),
        "scope": "Standards followed since initiation.",
        **fields,
    }


async def test_an_audit_from_plan_to_frozen_with_its_findings(api: Api) -> None:
    project, policy = await _audited_project(api)
    before = await counts(api)
    assert_problem(await api.post(AUDITS, "viewer", json=_audit(project, api)), 403)
    assert_problem(await api.post(AUDITS, "manager", json=_audit(project, api)), 403)
    assert_problem(await api.post(AUDITS, "pmo", json=_audit(project, api, type="vibes")), 422)
    missing = _audit({"id": str(uuid.uuid4())}, api)
    assert_problem(await api.post(AUDITS, "pmo", json=missing), 422, "project_not_found")
    assert await counts(api) == before

    made = await ok(await api.post(AUDITS, "pmo", json=_audit(project, api)), 201)
    assert (made["status"], made["checklist"], made["answers"], made["score"]) == (
        "planned",
        [],
        [],
        None,
    )
    path = f"{AUDITS}/{made['id']}"
    finding = {"severity": "medium", "description": "The charter is unsigned."}
    early = await api.post(f"{path}/findings", "pmo", json=finding)
    assert_problem(early, 409, "audit_not_started")
    assert_problem(await api.post(f"{path}/start", "manager"), 403)

    started = await ok(await api.post(f"{path}/start", "pmo"))
    assert started["status"] == "in_progress" and started["started_at"]
    items = {i["item"]: i for i in started["checklist"]}
    # The gates up to the phase after the project's (initiation -> planning), and each
    # rule that applies, with its verdict when the audit started.
    assert "gate/planning/deliverable/Charter" in items
    assert "gate/planning/approval/sponsor" in items
    assert not any(i.startswith("gate/execution") for i in items)
    failing = items[f"rule/{policy['key']}/NEEDS-BASELINE"]
    assert (failing["outcome"], failing["severity"]) == ("fail", "high")
    assert items[f"rule/{policy['key']}/HAS-FIELD"]["outcome"] == "pass"
    assert_problem(await api.post(f"{path}/start", "pmo"), 409, "audit_started")

    # Answers: an unknown item refused with its place, nothing kept.
    unknown = await api.post(
        f"{path}/answer",
        "pmo",
        json={"answers": [{"item": "gate/nowhere", "answer": "conforms"}]},
    )
    problem = assert_problem(unknown, 422, "unknown_checklist_item")
    assert ["body", "answers", 0, "item"] in [e["loc"] for e in problem["errors"]]
    first = sorted(items)[0]
    answered = await ok(
        await api.post(
            f"{path}/answer", "pmo", json={"answers": [{"item": first, "answer": "conforms"}]}
        )
    )
    assert [(a["item"], a["answer"]) for a in answered["answers"]] == [(first, "conforms")]
    incomplete = await api.post(f"{path}/complete", "pmo", json={})
    assert set(assert_problem(incomplete, 409, "audit_unanswered")["unanswered"]) == (
        set(items) - {first}
    )

    # Findings: the failing rule raised in one call, once; one by hand.
    raised = await api.post(f"{path}/findings/from-compliance", "pmo", json={})
    assert raised.status_code == 201, raised.text
    (from_rule,) = raised.json()["data"]
    assert (from_rule["rule_code"], from_rule["policy_key"], from_rule["severity"]) == (
        "NEEDS-BASELINE",
        policy["key"],
        "high",
    )
    assert (from_rule["project_id"], from_rule["status"]) == (project["id"], "open")
    again = await api.post(f"{path}/findings/from-compliance", "pmo", json={})
    assert (again.status_code, again.json()) == (200, {"data": []})
    late = await ok(
        await api.post(
            f"{path}/findings",
            "pmo",
            json={
                **finding,
                "gate_phase": "planning",
                "due_on": str(TODAY - timedelta(days=3)),
                "owner_id": api.people["manager"]["id"],
            },
        ),
        201,
    )
    assert late["raised_by"] == "test pmo"
    assert_problem(await api.post(f"{path}/findings", "manager", json=finding), 403)
    # Findings are raised under their audit; /findings lists them across audits.
    elsewhere = await api.post(FINDINGS, "pmo", json={**finding, "audit_id": made["id"]})
    assert_problem(elsewhere, 405, "method_not_allowed")
    with_audit = await api.post(f"{path}/findings", "pmo", json={**finding, "audit_id": made["id"]})
    assert_problem(with_audit, 422)
    assert_problem(await api.post(f"{path}/findings", "pmo", json={"severity": "low"}), 422)
    listed = await ok(await api.get(f"{path}/findings"))
    assert {f["id"] for f in listed["items"]} == {from_rule["id"], late["id"]}
    overdue = await ok(
        await api.get(FINDINGS, params={"status": "open", "overdue": "true", "limit": 200})
    )
    assert late["id"] in {f["id"] for f in overdue["items"]}
    assert from_rule["id"] not in {f["id"] for f in overdue["items"]}
    assert_problem(await api.get(FINDINGS, params={"overdue": "soon"}), 422)
    assert_problem(await api.get(f"{AUDITS}/{uuid.uuid4()}/findings"), 404, "audit_not_found")

    # The project's manager answers: remediation, owner, due date; not what was found.
    one = f"{FINDINGS}/{late['id']}"
    fixed = await ok(await api.patch(one, "manager", json={"remediation": "Sign it."}))
    assert fixed["remediation"] == "Sign it."
    assert_problem(await api.patch(one, "manager", json={"severity": "low"}), 403)
    assert_problem(await api.patch(one, "viewer", json={"remediation": "x"}), 403)
    assert_problem(await api.post(f"{one}/resolve", "manager"), 409, "finding_not_in_remediation")
    going = await ok(await api.post(f"{one}/remediate", "manager", json={}))
    assert going["status"] == "in_remediation" and going["remediation_started_at"]
    assert_problem(await api.post(f"{one}/remediate", "manager"), 409, "finding_in_remediation")
    done = await ok(await api.post(f"{one}/resolve", "manager", json={"note": "Signed."}))
    assert (done["status"], done["closed_by"], done["closing_note"]) == (
        "resolved",
        "test manager",
        "Signed.",
    )
    assert done["closed_by_person_id"] == api.people["manager"]["id"] and done["closed_at"]
    assert_problem(await api.patch(one, json={"remediation": "Again"}), 409, "finding_closed")
    ruled = f"{FINDINGS}/{from_rule['id']}"
    assert_problem(await api.post(f"{ruled}/accept", "manager", json={"note": "No."}), 403)
    assert_problem(await api.post(f"{ruled}/accept", "pmo", json={}), 422)
    assert_problem(await api.post(f"{ruled}/accept", "pmo", json={"note": ""}), 422)
    trail = [e["action"] for e in await audit(api, late["id"])]
    assert trail == [
        "finding.created",
        "finding.updated",
        "finding.remediation_started",
        "finding.resolved",
    ]

    # Every item answered: completed, scored, frozen.
    rest = [
        {"item": item, "answer": "does_not_conform" if item == failing["item"] else "conforms"}
        for item in items
        if item != first
    ]
    await ok(await api.post(f"{path}/answer", "pmo", json={"answers": rest}))
    completed = await ok(
        await api.post(f"{path}/complete", "pmo", json={"summary": "One rule fails."})
    )
    assert (completed["status"], completed["summary"]) == ("completed", "One rule fails.")
    assert completed["score"] == round(100 * (len(items) - 1) / len(items), 1)
    assert completed["completed_at"]
    assert [e["action"] for e in await audit(api, made["id"])] == [
        "audit.created",
        "audit.started",
        "audit.answered",
        "audit.answered",
        "audit.completed",
    ]
    frozen = await counts(api)
    assert_problem(await api.patch(path, json={"scope": "More"}), 409, "audit_completed")
    assert_problem(await api.delete(path), 409, "audit_completed")
    assert_problem(
        await api.post(
            f"{path}/answer", json={"answers": [{"item": first, "answer": "not_applicable"}]}
        ),
        409,
        "audit_completed",
    )
    assert_problem(await api.post(f"{path}/complete", json={}), 409, "audit_completed")
    assert_problem(await api.post(f"{path}/findings", json=finding), 409, "audit_completed")
    assert await counts(api) == frozen
    # Its findings go on to closure after it.
    accepted = await ok(await api.post(f"{ruled}/accept", "pmo", json={"note": "Waived."}))
    assert (accepted["status"], accepted["closed_by"]) == ("accepted", "test pmo")


async def test_findings_report_by_severity_and_age_per_portfolio(api: Api) -> None:
    project, _ = await _audited_project(api)
    made = await ok(await api.post(AUDITS, json=_audit(project, api, type="health_check")), 201)
    path = f"{AUDITS}/{made['id']}"
    await ok(await api.post(f"{path}/start"))
    for severity, due in (("critical", -1), ("critical", 5), ("low", None)):
        body: dict[str, Any] = {"severity": severity, "description": f"A {severity} one."}
        if due is not None:
            body["due_on"] = str(TODAY + timedelta(days=due))
        await ok(await api.post(f"{path}/findings", json=body), 201)
    report = await ok(await api.get("/api/v1/reports/findings"))
    (mine,) = [p for p in report["portfolios"] if p["portfolio_id"] == project["portfolio_id"]]
    assert (mine["open"], mine["overdue"]) == (3, 1)
    assert mine["ages"] == {"days_0_30": 3, "days_31_90": 0, "days_91_180": 0, "days_over_180": 0}
    by = {s["severity"]: s for s in mine["by_severity"]}
    assert [s["severity"] for s in mine["by_severity"]] == ["critical", "high", "medium", "low"]
    assert (by["critical"]["open"], by["critical"]["overdue"], by["low"]["open"]) == (2, 1, 1)
    assert report["open"] >= 3
    assert_problem(await api.get("/api/v1/reports/findings", params={"x": "1"}), 422)


async def test_audits_and_findings_over_graphql(api: Api) -> None:
    project, policy = await _audited_project(api)
    made = await ok(await api.post(AUDITS, json=_audit(project, api)), 201)
    body = await api.gql(
        """mutation($id: ID!) { startAudit(id: $id) {
             __typename ... on AuditPayload { audit { status checklist { item outcome } } } } }""",
        {"id": gid("Audit", made["id"])},
    )
    started = data(body)["startAudit"]["audit"]
    assert started["status"] == "IN_PROGRESS"
    assert {"item": f"rule/{policy['key']}/NEEDS-BASELINE", "outcome": "fail"} in started[
        "checklist"
    ]
    body = await api.gql(
        """mutation($id: ID!) {
             answerAudit(id: $id,
               answers: [{item: "gate/planning/approval/sponsor", answer: CONFORMS}]) {
               __typename ... on AuditPayload { audit { answers { item answer } } } } }""",
        {"id": gid("Audit", made["id"])},
    )
    assert data(body)["answerAudit"]["audit"]["answers"] == [
        {"item": "gate/planning/approval/sponsor", "answer": "CONFORMS"}
    ]
    body = await api.gql(
        """mutation($audit: ID!) { createFinding(input: {auditId: $audit, severity: HIGH,
             description: "No sponsor sign-off."}) {
             __typename ... on FindingPayload { finding { id status project { id } } } } }""",
        {"audit": made["id"]},
    )
    found = data(body)["createFinding"]["finding"]
    assert found["status"] == "OPEN"
    body = await api.gql(
        """query($id: ID!) { finding(id: $id) { severity audit { id status } } }""",
        {"id": found["id"]},
    )
    assert data(body)["finding"]["audit"]["status"] == "IN_PROGRESS"
    body = await api.gql(
        """mutation($id: ID!) { raiseComplianceFindings(auditId: $id) {
             __typename ... on RaisedFindingsPayload { findings { ruleCode severity } } } }""",
        {"id": gid("Audit", made["id"])},
    )
    assert data(body)["raiseComplianceFindings"]["findings"] == [
        {"ruleCode": "NEEDS-BASELINE", "severity": "HIGH"}
    ]
    body = await api.gql(
        """mutation { raiseComplianceFindings(auditId: "nope") { __typename } }""", {}
    )
    assert data(body)["raiseComplianceFindings"]["__typename"] == "ValidationError"
    body = await api.gql(
        """{ findingsReport { open byAgeAndSeverity: bySeverity { severity open }
             portfolios { portfolioId open } } }""",
        {},
    )
    report = data(body)["findingsReport"]
    assert {"portfolioId": project["portfolio_id"], "open": 2} in report["portfolios"]
    viewer = await api.gql(
        """mutation($id: ID!) { raiseComplianceFindings(auditId: $id) { __typename } }""",
        {"id": made["id"]},
        role="viewer",
    )
    assert data(viewer)["raiseComplianceFindings"]["__typename"] == "ForbiddenError"


async def test_bad_audit_input_is_refused_and_writes_nothing(api: Api) -> None:
    project, policy = await _audited_project(api)
    made = await ok(await api.post(AUDITS, json=_audit(project, api)), 201)
    path = f"{AUDITS}/{made['id']}"
    await ok(await api.post(f"{path}/start"))
    before = await counts(api)
    findings = f"{path}/findings"
    # A finding on a rule that does not exist, of a policy or of any; on a phase the
    # project's methodology does not have; a policy without its rule's code.
    for body, code, place in (
        ({"rule_code": "NO-SUCH-RULE"}, "rule_not_found", "rule_code"),
        (
            {"rule_code": "NEEDS-BASELINE", "policy_key": "PO-ELSEWHERE"},
            "rule_not_found",
            "rule_code",
        ),
        ({"policy_key": policy["key"]}, "rule_not_found", "rule_code"),
        ({"gate_phase": "launch"}, "unknown_phase", "gate_phase"),
        ({"severity": "dire"}, None, "severity"),
        ({"due_on": "2027-02-30"}, None, "due_on"),
        ({"owner_id": str(uuid.uuid4())}, "person_not_found", "owner_id"),
    ):
        response = await api.post(findings, json={"description": "Found.", **body})
        problem = assert_problem(response, 422, code)
        assert ["body", place] in [e["loc"] for e in problem["errors"]], problem
    # Completing with checklist items unanswered; answers to items it does not have.
    incomplete = await api.post(f"{path}/complete", json={"summary": "Done?"})
    assert_problem(incomplete, 409, "audit_unanswered")
    wrong = {"answers": [{"item": "rule/NOPE/NOPE", "answer": "conforms"}]}
    assert_problem(await api.post(f"{path}/answer", json=wrong), 422, "unknown_checklist_item")
    assert_problem(await api.post(f"{path}/answer", json={"answers": []}), 422)
    maybe = {"answers": [{"item": "rule/NOPE/NOPE", "answer": "maybe"}]}
    assert_problem(await api.post(f"{path}/answer", json=maybe), 422)
    assert await counts(api) == before
    assert (await ok(await api.get(path)))["status"] == "in_progress"
    # A finding's reference changed to one that is not there: refused the same way.
    good = await ok(
        await api.post(
            findings,
            json={"description": "Found.", "rule_code": "NEEDS-BASELINE", "gate_phase": "planning"},
        ),
        201,
    )
    assert (good["rule_code"], good["gate_phase"]) == ("NEEDS-BASELINE", "planning")
    moved = await api.patch(f"{FINDINGS}/{good['id']}", json={"rule_code": "NO-SUCH-RULE"})
    assert_problem(moved, 422, "rule_not_found")
    assert (await ok(await api.get(f"{FINDINGS}/{good['id']}")))["version"] == 1


async def test_an_enrollment_in_an_archived_course_is_refused(api: Api) -> None:
    person = await api.make_person()
    course = await ok(
        await api.post(
            "/api/v1/training/courses",
            json={"title": "Old course", "skill": "agile", "level": 2, "hours": 4},
        ),
        201,
    )
    await ok(await api.delete(f"/api/v1/training/courses/{course['id']}"))
    before = await counts(api)
    refused = await api.post(
        "/api/v1/training/enrollments",
        json={"person_id": person["id"], "course_id": course["id"]},
    )
    problem = assert_problem(refused, 422, "course_not_found")
    assert ["body", "course_id"] in [e["loc"] for e in problem["errors"]]
    assert await counts(api) == before
