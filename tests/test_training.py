"""Training (``training/declaration.py``): courses, enrollments and certifications
through REST and GraphQL on both databases; completing a course (the certification it
grants, the skill it raises, in one change); a person's certifications under
``/people/{id}/certifications``; the compliance check "manager holds certification X"
reading them; and the managers' certification gaps (``/training/gaps``)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from tests.conftest import Api
from tests.test_policies import _published, _rule
from tests.test_raid import audit, data, ok
from tests.test_rest_conventions import assert_problem

COURSES = "/api/v1/training/courses"
ENROLLMENTS = "/api/v1/training/enrollments"
TODAY = date.today()


def _course(**fields: Any) -> dict[str, Any]:
    return {"title": "Agile delivery", "skill": "agile", "level": 3, "hours": 7.5, **fields}


def _held(person: dict[str, Any]) -> str:
    return f"/api/v1/people/{person['id']}/certifications"


async def _enroll(api: Api, person: dict[str, Any], course: dict[str, Any]) -> dict[str, Any]:
    body = {"person_id": person["id"], "course_id": course["id"]}
    return await ok(await api.post(ENROLLMENTS, "pmo", json=body), 201)


# --- courses ---------------------------------------------------------------------------------


async def test_a_course_life_cycle_and_its_list(api: Api) -> None:
    mark = uuid.uuid4().hex[:8]
    grants = {"name": f"PMP-{mark}", "issuer": "PMI", "valid_days": 365}
    created = await api.post(
        COURSES, "pmo", json=_course(title=f"Scrum {mark}", grants_certification=grants)
    )
    course = await ok(created, 201)
    assert created.headers["location"] == f"{COURSES}/{course['id']}"
    assert course["grants_certification"] == grants and course["hours"] == 7.5
    assert await ok(await api.get(f"{COURSES}/{course['id']}", "viewer")) == course
    other = await ok(
        await api.post(COURSES, json=_course(title=f"Kanban {mark}", level=5, hours=2)), 201
    )
    assert other["grants_certification"] is None

    listed = await ok(await api.get(COURSES, "viewer", params={"q": mark, "sort": "-level"}))
    assert [c["id"] for c in listed["items"]] == [other["id"], course["id"]]
    by_level = await ok(await api.get(COURSES, params={"q": mark, "level": 3}))
    assert [c["id"] for c in by_level["items"]] == [course["id"]]
    by_skill = await ok(await api.get(COURSES, params={"q": mark, "skill": "agile"}))
    assert len(by_skill["items"]) == 2

    path = f"{COURSES}/{course['id']}"
    changed = await ok(await api.patch(path, json={"hours": 8}, headers={"If-Match": '"1"'}))
    assert changed["hours"] == 8 and changed["version"] == 2
    assert_problem(await api.patch(path, json={"hours": 9}, headers={"If-Match": '"1"'}), 412)
    await ok(await api.delete(path))
    assert [e["action"] for e in await audit(api, course["id"])] == [
        "course.created",
        "course.updated",
        "course.archived",
    ]


async def test_bad_courses_are_refused_and_write_nothing(api: Api) -> None:
    before = await api.table_counts()
    for bad in (
        _course(level=0),
        _course(level=6),
        _course(hours=0),
        _course(hours=1001),
        _course(skill=""),
        _course(skill="x" * 101),
        _course(grants_certification={"name": "PMP", "valid_days": 0}),
        _course(grants_certification={"name": "PMP", "valid_days": 3651}),
        _course(grants_certification={"name": ""}),
        _course(grants_certification={"name": "PMP", "other": 1}),
        {"title": "No skill", "level": 1, "hours": 1},
    ):
        assert_problem(await api.post(COURSES, json=bad), 422)
    assert_problem(await api.post(COURSES, "viewer", json=_course()), 403, "role_forbidden")
    assert_problem(await api.post(COURSES, "manager", json=_course()), 403, "role_forbidden")
    assert await api.table_counts() == before


# --- enrollments -----------------------------------------------------------------------------


async def test_completing_grants_the_certification_and_raises_the_skill(api: Api) -> None:
    mark = uuid.uuid4().hex[:8]
    person = await api.make_person(
        skills=[{"skill": "agile", "level": 1}, {"skill": "risk", "level": 5}]
    )
    grants = {"name": f"CSM-{mark}", "issuer": "Scrum Alliance", "valid_days": 730}
    course = await ok(await api.post(COURSES, json=_course(grants_certification=grants)), 201)
    enrollment = await _enroll(api, person, course)
    assert enrollment["status"] == "enrolled" and enrollment["completed_at"] is None
    path = f"{ENROLLMENTS}/{enrollment['id']}"
    started = await ok(await api.post(f"{path}/start", headers={"If-Match": '"1"'}))
    assert started["status"] == "in_progress" and started["version"] == 2

    done = await ok(await api.post(f"{path}/complete", "pmo", json={"score": 87}))
    assert done["status"] == "completed" and done["score"] == 87
    assert done["completed_at"] is not None

    held = await ok(await api.get(_held(person), "viewer"))
    [certification] = held["items"]
    assert certification["name"] == grants["name"]
    assert certification["issuer"] == "Scrum Alliance"
    assert certification["issued_on"] == str(TODAY)
    assert certification["expires_on"] == str(TODAY + timedelta(days=730))
    assert certification["course_id"] == course["id"]
    assert certification["enrollment_id"] == enrollment["id"]
    shown = await ok(await api.get(f"/api/v1/people/{person['id']}"))
    assert shown["skills"] == [{"skill": "agile", "level": 3}, {"skill": "risk", "level": 5}]
    assert shown["version"] == person["version"] + 1

    assert [e["action"] for e in await audit(api, enrollment["id"])] == [
        "enrollment.created",
        "enrollment.started",
        "enrollment.completed",
    ]
    assert [e["action"] for e in await audit(api, certification["id"])] == ["certification.created"]
    raised = (await audit(api, person["id"]))[-1]
    assert raised["action"] == "person.updated" and "skills" in raised["changes"]

    before = await api.table_counts()
    again = await api.post(f"{path}/complete", json={"score": 90})
    assert_problem(again, 409, "enrollment_already_completed")
    assert_problem(await api.post(f"{path}/withdraw"), 409, "invalid_enrollment_transition")
    assert_problem(await api.post(f"{path}/start"), 409, "invalid_enrollment_transition")
    assert await api.table_counts() == before

    # A higher skill is never lowered; an absent one is added; no certification to grant.
    expert = await api.make_person(skills=[{"skill": "agile", "level": 5}])
    plain = await ok(await api.post(COURSES, json=_course(skill="finance", level=2)), 201)
    for taken in (course, plain):
        enrolled = await _enroll(api, expert, taken)
        await ok(await api.post(f"{ENROLLMENTS}/{enrolled['id']}/complete"))
    shown = await ok(await api.get(f"/api/v1/people/{expert['id']}"))
    assert shown["skills"] == [{"skill": "agile", "level": 5}, {"skill": "finance", "level": 2}]
    held = await ok(await api.get(_held(expert)))
    assert [c["name"] for c in held["items"]] == [grants["name"]]


async def test_one_enrollment_under_way_and_the_transitions(api: Api) -> None:
    person = await api.make_person()
    course = await ok(await api.post(COURSES, json=_course()), 201)
    first = await _enroll(api, person, course)
    before = await api.table_counts()
    body = {"person_id": person["id"], "course_id": course["id"]}
    assert_problem(await api.post(ENROLLMENTS, json=body), 409, "already_enrolled")
    assert_problem(
        await api.patch(f"{ENROLLMENTS}/{first['id']}", json={"score": 10}),
        409,
        "enrollment_not_completed",
    )
    for bad in (
        {"person_id": person["id"]},
        {**body, "course_id": str(uuid.uuid4())},
        {**body, "status": "completed"},
        {**body, "score": 50},
    ):
        assert_problem(await api.post(ENROLLMENTS, json=bad), 422)
    assert_problem(
        await api.post(f"{ENROLLMENTS}/{first['id']}/complete", json={"score": 101}), 422
    )
    assert_problem(await api.post(ENROLLMENTS, "viewer", json=body), 403, "role_forbidden")
    assert_problem(await api.post(f"{ENROLLMENTS}/{first['id']}/complete", "viewer"), 403)
    assert await api.table_counts() == before

    withdrawn = await ok(await api.post(f"{ENROLLMENTS}/{first['id']}/withdraw"))
    assert withdrawn["status"] == "withdrawn"
    assert_problem(
        await api.post(f"{ENROLLMENTS}/{first['id']}/complete"),
        409,
        "invalid_enrollment_transition",
    )
    second = await _enroll(api, person, course)  # the first is no longer under way
    done = await ok(await api.post(f"{ENROLLMENTS}/{second['id']}/complete"))
    rescored = await ok(await api.patch(f"{ENROLLMENTS}/{second['id']}", json={"score": 75}))
    assert rescored["score"] == 75 and done["score"] is None
    listed = await ok(
        await api.get(ENROLLMENTS, params={"person_id": person["id"], "status": "withdrawn"})
    )
    assert [e["id"] for e in listed["items"]] == [first["id"]]
    by_course = await ok(await api.get(ENROLLMENTS, params={"course_id": course["id"]}))
    assert [e["id"] for e in by_course["items"]] == [second["id"], first["id"]]


async def test_enrollments_over_graphql(api: Api) -> None:
    person = await api.make_person()
    mark = uuid.uuid4().hex[:8]
    made = data(
        await api.gql(
            """mutation($input: CreateCourseInput!) { createCourse(input: $input) {
                 __typename ... on CoursePayload { course { id title level
                 grantsCertification { name validDays } } } } }""",
            {
                "input": {
                    "title": "Risk",
                    "skill": "risk",
                    "level": 4,
                    "hours": 3,
                    "grantsCertification": {"name": f"RMP-{mark}"},
                }
            },
        )
    )["createCourse"]
    course = made["course"]
    assert course["grantsCertification"] == {"name": f"RMP-{mark}", "validDays": None}
    enrolled = data(
        await api.gql(
            """mutation($input: CreateEnrollmentInput!) { createEnrollment(input: $input) {
                 __typename ... on EnrollmentPayload { enrollment { id uuid status } } } }""",
            {"input": {"personId": person["id"], "courseId": course["id"]}},
        )
    )["createEnrollment"]["enrollment"]
    assert enrolled["status"] == "ENROLLED"
    completion = """mutation($id: ID!) { completeEnrollment(id: $id, score: 60) { __typename
        ... on EnrollmentPayload { enrollment { status score person { skills { skill level } }
        course { title } } } ... on ConflictError { code } } }"""
    done = data(await api.gql(completion, {"id": enrolled["id"]}))["completeEnrollment"]
    assert done["enrollment"]["status"] == "COMPLETED" and done["enrollment"]["score"] == 60
    assert done["enrollment"]["person"]["skills"] == [{"skill": "risk", "level": 4}]
    assert done["enrollment"]["course"]["title"] == "Risk"
    again = data(await api.gql(completion, {"id": enrolled["id"]}))["completeEnrollment"]
    assert again == {"__typename": "ConflictError", "code": "enrollment_already_completed"}
    refused = data(await api.gql(completion, {"id": enrolled["id"]}, role="viewer"))
    assert refused["completeEnrollment"]["__typename"] == "ForbiddenError"
    held = data(
        await api.gql(
            """query($person: ID!) { certifications(filter: {personId: $person}) {
                 nodes { name expiresOn course { title } person { uuid } } } }""",
            {"person": person["id"]},
            role="viewer",
        )
    )["certifications"]["nodes"]
    assert held == [
        {
            "name": f"RMP-{mark}",
            "expiresOn": None,
            "course": {"title": "Risk"},
            "person": {"uuid": person["id"]},
        }
    ]


# --- certifications --------------------------------------------------------------------------


async def test_a_persons_certifications(api: Api) -> None:
    person = await api.make_person()
    other = await api.make_person()
    added = await api.post(
        _held(person),
        "pmo",
        json={
            "name": "PMP",
            "issuer": "PMI",
            "issued_on": "2025-01-10",
            "expires_on": "2028-01-10",
        },
    )
    pmp = await ok(added, 201)
    assert added.headers["location"] == f"/api/v1/certifications/{pmp['id']}"
    assert pmp["person_id"] == person["id"] and pmp["course_id"] is None
    lapsed = await ok(
        await api.post(_held(person), json={"name": "ITIL", "expires_on": str(TODAY)}), 201
    )
    old = await ok(
        await api.post(
            _held(person), json={"name": "COBIT", "expires_on": str(TODAY - timedelta(days=1))}
        ),
        201,
    )
    lasting = await ok(await api.post(_held(person), json={"name": "PRINCE2"}), 201)
    await ok(await api.post(_held(other), json={"name": "PMP"}), 201)

    mine = await ok(await api.get(_held(person), "viewer"))
    assert [c["name"] for c in mine["items"]] == ["COBIT", "ITIL", "PMP", "PRINCE2"]
    expired = await ok(await api.get(_held(person), params={"expired": "true"}))
    assert [c["id"] for c in expired["items"]] == [old["id"]]
    valid = await ok(await api.get(_held(person), params={"expired": "false"}))
    assert {c["id"] for c in valid["items"]} == {pmp["id"], lapsed["id"], lasting["id"]}
    soon = await ok(await api.get(_held(person), params={"expires_before": "2028-01-01"}))
    assert {c["id"] for c in soon["items"]} == {old["id"], lapsed["id"]}
    named = await ok(await api.get("/api/v1/certifications", params={"name": "PMP"}))
    assert {c["person_id"] for c in named["items"]} >= {person["id"], other["id"]}
    by_expiry = await ok(await api.get(_held(person), params={"sort": "expires_on"}))
    assert [c["name"] for c in by_expiry["items"]] == ["COBIT", "ITIL", "PMP", "PRINCE2"]

    path = f"/api/v1/certifications/{pmp['id']}"
    changed = await ok(
        await api.patch(path, json={"expires_on": "2029-01-10"}, headers={"If-Match": '"1"'})
    )
    assert changed["expires_on"] == "2029-01-10" and changed["version"] == 2
    await ok(await api.delete(path))
    assert [e["action"] for e in await audit(api, pmp["id"])] == [
        "certification.created",
        "certification.updated",
        "certification.archived",
    ]
    assert len((await ok(await api.get(_held(person))))["items"]) == 3

    before = await api.table_counts()
    unknown = f"/api/v1/people/{uuid.uuid4()}/certifications"
    assert_problem(await api.get(unknown), 404, "person_not_found")
    assert_problem(await api.post(unknown, json={"name": "PMP"}), 404, "person_not_found")
    for bad in (
        {},
        {"name": ""},
        {"name": "PMP", "person_id": other["id"]},
        {"name": "PMP", "issued_on": "2027-01-02", "expires_on": "2027-01-01"},
        {"name": "PMP", "expires_on": "soon"},
    ):
        assert_problem(await api.post(_held(person), json=bad), 422)
    assert_problem(await api.post(_held(person), "viewer", json={"name": "PMP"}), 403)
    assert_problem(await api.post(_held(person), "manager", json={"name": "PMP"}), 403)
    assert_problem(
        await api.patch(f"/api/v1/certifications/{lasting['id']}", json={"person_id": other["id"]}),
        422,
    )
    assert await api.table_counts() == before
    assert (await api.post("/api/v1/certifications", json={"name": "X"})).status_code == 405


# --- compliance and gaps --------------------------------------------------------------------


async def _gaps(api: Api, role: str = "viewer", **params: Any) -> list[dict[str, Any]]:
    found = await ok(await api.get("/api/v1/training/gaps", role, params=params))
    return list(found["gaps"])


async def test_manager_certified_and_the_gaps(api: Api) -> None:
    case = uuid.uuid4().hex[:12]
    name = f"CERT-{case}"
    portfolio = await api.make_portfolio()
    valid = await api.make_person(name=f"A valid {case}")
    expiring = await api.make_person(name=f"B expiring {case}")
    expired = await api.make_person(name=f"C expired {case}")
    missing = await api.make_person(name=f"D missing {case}")
    await ok(await api.post(_held(valid), json={"name": name, "expires_on": "2099-01-01"}), 201)
    soon = str(TODAY + timedelta(days=10))
    await ok(await api.post(_held(expiring), json={"name": name, "expires_on": soon}), 201)
    gone = str(TODAY - timedelta(days=3))
    await ok(await api.post(_held(expired), json={"name": name, "expires_on": gone}), 201)
    await ok(await api.post(_held(missing), json={"name": "Something else"}), 201)
    common = {"attributes": {"case": case}}
    projects = {
        who["id"]: await api.make_project(portfolio["id"], **common, manager_id=who["id"])
        for who in (valid, expiring, expired, missing)
    }
    # Not required: a cancelled project, and one the rule does not apply to.
    await api.make_project(portfolio["id"], **common, manager_id=missing["id"], status="cancelled")
    await api.make_project(portfolio["id"], manager_id=missing["id"])
    policy = await _published(api, [_rule("CERT", "manager_certified", case, certification=name)])

    outcomes = {}
    for person_id, project in projects.items():
        report = await ok(await api.get(f"/api/v1/projects/{project['id']}/compliance"))
        [rule] = [r for r in report["rules"] if r["policy_key"] == policy["key"]]
        outcomes[person_id] = rule["outcome"]
    assert outcomes == {
        valid["id"]: "pass",
        expiring["id"]: "pass",
        expired["id"]: "fail",
        missing["id"]: "fail",
    }

    mine = [g for g in await _gaps(api) if g["certification"] == name]
    assert [(g["person"]["id"], g["state"], g["expires_on"]) for g in mine] == [
        (expiring["id"], "expiring", soon),
        (expired["id"], "expired", gone),
        (missing["id"], "missing", None),
    ]
    assert mine[2]["projects"] == [{k: projects[missing["id"]][k] for k in ("id", "key", "name")}]
    assert mine[2]["rules"] == [{"policy_key": policy["key"], "rule": "CERT"}]
    assert mine[2]["person"] == {"id": missing["id"], "name": missing["name"]}
    narrow = [g for g in await _gaps(api, within_days=5) if g["certification"] == name]
    assert [g["state"] for g in narrow] == ["expired", "missing"]

    for bad in ("-1", "3651", "soon"):
        problem = assert_problem(
            await api.get("/api/v1/training/gaps", params={"within_days": bad}), 422
        )
        assert problem["errors"][0]["loc"] == ["query", "within_days"]
    shown = data(
        await api.gql(
            """{ trainingGaps(withinDays: 5) { withinDays gaps { certification state
                 person { name } projects { key } rules { policyKey rule } } } }""",
            role="viewer",
        )
    )["trainingGaps"]
    assert shown["withinDays"] == 5
    assert [
        (g["person"]["name"], g["state"]) for g in shown["gaps"] if g["certification"] == name
    ] == [
        (expired["name"], "EXPIRED"),
        (missing["name"], "MISSING"),
    ]
    refused = await api.gql("{ trainingGaps(withinDays: -1) { withinDays } }")
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "invalid_within_days"

    # Completing a course that grants it closes the gap.
    course = await ok(
        await api.post(COURSES, json=_course(grants_certification={"name": name})), 201
    )
    enrolled = await _enroll(api, missing, course)
    await ok(await api.post(f"{ENROLLMENTS}/{enrolled['id']}/complete"))
    report = await ok(await api.get(f"/api/v1/projects/{projects[missing['id']]['id']}/compliance"))
    [rule] = [r for r in report["rules"] if r["policy_key"] == policy["key"]]
    assert rule["outcome"] == "pass"
    assert [
        g["person"]["id"] for g in await _gaps(api, within_days=5) if g["certification"] == name
    ] == [expired["id"]]


async def test_the_gaps_cost_a_bounded_number_of_statements(api: Api) -> None:
    case = uuid.uuid4().hex[:12]
    portfolio = await api.make_portfolio()
    rules = [
        _rule(f"C{i}", "manager_certified", case, certification=f"N{i}-{case}") for i in range(3)
    ]
    await _published(api, rules)
    await _gaps(api)  # the rules in force parsed once
    counts = []
    for _ in range(2):
        manager = await api.make_person()
        await api.make_project(portfolio["id"], attributes={"case": case}, manager_id=manager["id"])
        with api.count_statements(cold_auth=False) as counter:
            found = await _gaps(api)
        counts.append(counter.count)
        assert len([g for g in found if g["certification"].endswith(case)]) >= 3
    assert counts[0] == counts[1] <= 4


async def test_a_certification_expiring_flips_the_check(api: Api) -> None:
    """The same certification passes while it is valid (its last day included) and fails
    from the day after it expires; the gaps report follows it, expiring then expired."""
    case = uuid.uuid4().hex[:12]
    name = f"CERT-{case}"
    manager = await api.make_person(name=f"Flip {case}")
    held = await ok(
        await api.post(_held(manager), json={"name": name, "expires_on": str(TODAY)}), 201
    )
    project = await api.make_project(attributes={"case": case}, manager_id=manager["id"])
    rule = _rule("FLIP-CERT", "manager_certified", case, certification=name)
    policy = await _published(api, [rule])

    async def outcome() -> str:
        report = await ok(await api.get(f"/api/v1/projects/{project['id']}/compliance"))
        [rule] = [r for r in report["rules"] if r["policy_key"] == policy["key"]]
        return str(rule["outcome"])

    async def states() -> list[str]:
        found = await ok(await api.get("/api/v1/training/gaps"))
        return [g["state"] for g in found["gaps"] if g["certification"] == name]

    assert await outcome() == "pass"
    assert await states() == ["expiring"]
    yesterday = str(TODAY - timedelta(days=1))
    path = f"/api/v1/certifications/{held['id']}"
    await ok(await api.patch(path, json={"expires_on": yesterday}, headers={"If-Match": '"1"'}))
    assert await outcome() == "fail"
    assert await states() == ["expired"]
    failing = {"failing_rule": "FLIP-CERT", "limit": 200}
    listed = await ok(await api.get("/api/v1/projects", params=failing))
    assert project["id"] in {p["id"] for p in listed["items"]}
    renewed = str(TODAY + timedelta(days=400))
    await ok(await api.patch(path, json={"expires_on": renewed}, headers={"If-Match": '"2"'}))
    assert await outcome() == "pass"
    assert await states() == []
