"""GraphQL mutations through HTTP, on both databases: each write's success path, its
typed errors, and the savepoint that leaves nothing of a failed mutation behind."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from tests.conftest import Api, new_key

PROJECT_FIELDS = """id uuid key name description status health plannedBudget plannedStart
    plannedEnd version archivedAt portfolio { key } manager { name } sponsor { name }"""
CREATE_ERROR_FIELDS = """__typename ... on Error { code message }
    ... on ValidationError { errors { loc msg type } }
    ... on ConflictError { field }"""
ERROR_FIELDS = CREATE_ERROR_FIELDS + " ... on VersionMismatchError { currentVersion }"

CREATE_PROJECT = f"""mutation($input: CreateProjectInput!) {{ createProject(input: $input) {{
    {CREATE_ERROR_FIELDS} ... on ProjectPayload {{ project {{ {PROJECT_FIELDS} }} }} }} }}"""
UPDATE_PROJECT = f"""mutation($id: ID!, $input: UpdateProjectInput!, $version: Int) {{
    updateProject(id: $id, input: $input, expectedVersion: $version) {{
    {ERROR_FIELDS} ... on ProjectPayload {{ project {{ {PROJECT_FIELDS} }} }} }} }}"""
ARCHIVE_PROJECT = f"""mutation($id: ID!, $version: Int) {{
    archiveProject(id: $id, expectedVersion: $version) {{
    {ERROR_FIELDS} ... on ProjectPayload {{ project {{ key archivedAt version }} }} }} }}"""


def gid(type_name: str, row_id: str) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def result(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    value: dict[str, Any] = body["data"][field]
    return value


async def rest(api: Api, path: str) -> dict[str, Any]:
    response = await api.get(path)
    assert response.status_code == 200, response.text
    return dict(response.json())


# --- projects ----------------------------------------------------------------------------


async def test_create_update_archive_project(api: Api) -> None:
    portfolio = await api.make_portfolio()
    manager = api.people["manager"]
    key = new_key("GQ")
    created = result(
        await api.gql(
            CREATE_PROJECT,
            {
                "input": {
                    "key": key,
                    "name": "Graph project",
                    "description": "via GraphQL",
                    "portfolioId": gid("Portfolio", portfolio["id"]),
                    "managerId": manager["id"],
                    "plannedBudget": 2500.75,
                    "plannedStart": "2027-01-01",
                    "status": "ACTIVE",
                }
            },
        ),
        "createProject",
    )
    assert created["__typename"] == "ProjectPayload"
    project = created["project"]
    assert project == {
        "id": gid("Project", project["uuid"]),
        "uuid": project["uuid"],
        "key": key,
        "name": "Graph project",
        "description": "via GraphQL",
        "status": "ACTIVE",
        "health": "GREEN",
        "plannedBudget": 2500.75,
        "plannedStart": "2027-01-01",
        "plannedEnd": None,
        "version": 1,
        "archivedAt": None,
        "portfolio": {"key": portfolio["key"]},
        "manager": {"name": "Manager"},
        "sponsor": None,
    }
    stored = await rest(api, f"/api/v1/projects/{key}")
    assert (stored["id"], stored["planned_budget"], stored["manager_id"]) == (
        project["uuid"],
        2500.75,
        manager["id"],
    )

    # PATCH semantics: only what is sent changes; null clears.
    updated = result(
        await api.gql(
            UPDATE_PROJECT,
            {"id": project["id"], "input": {"name": "Renamed", "description": None}, "version": 1},
        ),
        "updateProject",
    )["project"]
    assert (updated["name"], updated["description"], updated["version"]) == ("Renamed", None, 2)
    assert (updated["plannedBudget"], updated["status"]) == (2500.75, "ACTIVE")
    assert updated["manager"] == {"name": "Manager"}
    stored = await rest(api, f"/api/v1/projects/{key}")
    assert (stored["name"], stored["description"], stored["version"]) == ("Renamed", None, 2)

    unchanged = result(
        await api.gql(UPDATE_PROJECT, {"id": key, "input": {}, "version": 2}), "updateProject"
    )["project"]
    assert unchanged["version"] == 2

    archived = result(
        await api.gql(ARCHIVE_PROJECT, {"id": project["uuid"], "version": 2}), "archiveProject"
    )
    assert archived["__typename"] == "ProjectPayload"
    assert archived["project"]["key"] == key
    assert archived["project"]["archivedAt"].endswith("Z")
    assert archived["project"]["version"] == 3
    again = result(await api.gql(ARCHIVE_PROJECT, {"id": key}), "archiveProject")
    assert again == {
        "__typename": "ConflictError",
        "code": "already_archived",
        "message": "The project is already archived.",
        "field": None,
    }
    listed = await api.gql(
        "query($pf: ID) { projects(filter: {portfolioId: $pf}) { nodes { key } } }",
        {"pf": portfolio["id"]},
    )
    assert listed["data"] == {"projects": {"nodes": []}}


async def test_version_mismatch_writes_nothing(api: Api) -> None:
    project = await api.make_project(name="Original")
    before = await api.table_counts()
    body = await api.gql(
        UPDATE_PROJECT, {"id": project["key"], "input": {"name": "Lost update"}, "version": 7}
    )
    assert result(body, "updateProject") == {
        "__typename": "VersionMismatchError",
        "code": "version_mismatch",
        "message": "The project is at version 1, not 7: reload it and retry.",
        "currentVersion": 1,
    }
    archive = result(
        await api.gql(ARCHIVE_PROJECT, {"id": project["key"], "version": 2}), "archiveProject"
    )
    assert (archive["__typename"], archive["currentVersion"]) == ("VersionMismatchError", 1)
    assert await api.table_counts() == before
    stored = await rest(api, f"/api/v1/projects/{project['id']}")
    assert (stored["name"], stored["version"], stored["archived_at"]) == ("Original", 1, None)


async def test_manager_cannot_change_another_managers_project(api: Api) -> None:
    manager, other = api.people["manager"], api.people["other_manager"]
    project = await api.make_project(manager_id=manager["id"], name="Mine")
    before = await api.table_counts()
    body = await api.gql(
        UPDATE_PROJECT,
        {"id": project["key"], "input": {"name": "Taken over"}},
        role="other_manager",
    )
    assert result(body, "updateProject") == {
        "__typename": "ForbiddenError",
        "code": "project_forbidden",
        "message": "Managers change only their own projects.",
    }
    # Their own manager may, but may not hand it to another manager.
    own = await api.gql(
        UPDATE_PROJECT, {"id": project["key"], "input": {"name": "Still mine"}}, role="manager"
    )
    assert result(own, "updateProject")["project"]["name"] == "Still mine"
    handover = await api.gql(
        UPDATE_PROJECT,
        {"id": project["key"], "input": {"managerId": gid("Person", other["id"])}},
        role="manager",
    )
    assert result(handover, "updateProject")["code"] == "manager_reassign_forbidden"
    after = await api.table_counts()
    assert after == {**before, "audit_events": before["audit_events"] + 1}


async def test_viewer_cannot_create(api: Api) -> None:
    portfolio = await api.make_portfolio()
    before = await api.table_counts()
    project = await api.gql(
        CREATE_PROJECT,
        {"input": {"key": new_key("VW"), "name": "No", "portfolioId": portfolio["id"]}},
        role="viewer",
    )
    assert result(project, "createProject") == {
        "__typename": "ForbiddenError",
        "code": "project_forbidden",
        "message": "Managers create only projects they manage (manager_id = their person id).",
    }
    created = await api.gql(
        'mutation { createPortfolio(input: {key: "VIEWER-PF", name: "No"}) { '
        + CREATE_ERROR_FIELDS
        + " } }",
        role="viewer",
    )
    assert result(created, "createPortfolio") == {
        "__typename": "ForbiddenError",
        "code": "role_forbidden",
        "message": "Only pmo and admin keys change portfolios.",
    }
    assert await api.table_counts() == before


async def test_manager_creates_their_own_project(api: Api) -> None:
    portfolio = await api.make_portfolio()
    manager = api.people["manager"]
    own = await api.gql(
        CREATE_PROJECT,
        {
            "input": {
                "key": new_key("MG"),
                "name": "Managed",
                "portfolioId": portfolio["id"],
                "managerId": gid("Person", manager["id"]),
            }
        },
        role="manager",
    )
    assert result(own, "createProject")["project"]["manager"] == {"name": "Manager"}


async def test_validation_errors_are_typed_and_write_nothing(api: Api) -> None:
    portfolio = await api.make_portfolio()
    project = await api.make_project(
        portfolio["id"], planned_start="2027-03-01", planned_end="2027-06-30"
    )
    before = await api.table_counts()

    bad_key = await api.gql(
        CREATE_PROJECT,
        {"input": {"key": "bad key", "name": "X", "portfolioId": portfolio["id"]}},
    )
    assert result(bad_key, "createProject") == {
        "__typename": "ValidationError",
        "code": "validation_failed",
        "message": "The input is not valid: input.key.",
        "errors": [
            {
                "loc": ["input", "key"],
                "msg": "String should match pattern '^[A-Z][A-Z0-9-]{1,19}$'",
                "type": "string_pattern_mismatch",
            }
        ],
    }

    reversed_dates = await api.gql(
        CREATE_PROJECT,
        {
            "input": {
                "key": new_key("DT"),
                "name": "X",
                "portfolioId": portfolio["id"],
                "plannedStart": "2027-02-01",
                "plannedEnd": "2027-01-01",
            }
        },
    )
    error = result(reversed_dates, "createProject")
    assert (error["__typename"], error["code"]) == ("ValidationError", "validation_failed")
    assert error["errors"] == [
        {
            "loc": ["input"],
            "msg": "planned_end is before planned_start",
            "type": "dates_out_of_order",
        }
    ]

    # The service finds this one after applying the patch: the savepoint undoes it.
    end_before_start = await api.gql(
        UPDATE_PROJECT, {"id": project["key"], "input": {"plannedEnd": "2027-01-15"}}
    )
    assert result(end_before_start, "updateProject") == {
        "__typename": "ValidationError",
        "code": "dates_out_of_order",
        "message": "planned_end (2027-01-15) is before planned_start (2027-03-01).",
        "errors": [
            {"loc": ["input", "plannedEnd"], "msg": "before the start", "type": "value_error"}
        ],
    }

    not_null = await api.gql(UPDATE_PROJECT, {"id": project["key"], "input": {"name": None}})
    assert result(not_null, "updateProject")["errors"] == [
        {
            "loc": ["input", "name"],
            "msg": "Value error, may be omitted but not null",
            "type": "value_error",
        }
    ]
    unknown_ref = await api.gql(
        UPDATE_PROJECT, {"id": project["key"], "input": {"sponsorId": str(uuid.uuid4())}}
    )
    assert result(unknown_ref, "updateProject")["errors"] == [
        {"loc": ["input", "sponsorId"], "msg": "unknown or archived person", "type": "value_error"}
    ]
    bad_id = await api.gql(UPDATE_PROJECT, {"id": "not a key", "input": {"name": "X"}})
    assert result(bad_id, "updateProject")["errors"] == [
        {"loc": ["id"], "msg": "must be a Project id or a key like ABC-12", "type": "value_error"}
    ]
    missing = await api.gql(UPDATE_PROJECT, {"id": str(uuid.uuid4()), "input": {"name": "X"}})
    assert result(missing, "updateProject")["__typename"] == "NotFoundError"

    assert await api.table_counts() == before
    stored = await rest(api, f"/api/v1/projects/{project['id']}")
    assert (stored["planned_end"], stored["version"]) == ("2027-06-30", 1)


async def test_duplicate_key_is_a_conflict(api: Api) -> None:
    project = await api.make_project()
    body = await api.gql(
        CREATE_PROJECT,
        {"input": {"key": project["key"], "name": "Twin", "portfolioId": project["portfolio_id"]}},
    )
    assert result(body, "createProject") == {
        "__typename": "ConflictError",
        "code": "duplicate_key",
        "message": "Another project already has this key.",
        "field": "key",
    }


async def test_a_failed_mutation_leaves_the_ones_before_it(api: Api) -> None:
    project = await api.make_project(name="Two steps")
    before = await api.table_counts()
    body = await api.gql(
        """mutation($id: ID!) {
            first: updateProject(id: $id, input: {name: "Step one"}, expectedVersion: 1) {
                __typename ... on ProjectPayload { project { version } } }
            second: updateProject(id: $id, input: {name: "Step two"}, expectedVersion: 1) {
                __typename ... on VersionMismatchError { currentVersion } } }""",
        {"id": project["id"]},
    )
    assert body["data"] == {
        "first": {"__typename": "ProjectPayload", "project": {"version": 2}},
        "second": {"__typename": "VersionMismatchError", "currentVersion": 2},
    }
    stored = await rest(api, f"/api/v1/projects/{project['id']}")
    assert (stored["name"], stored["version"]) == ("Step one", 2)
    assert await api.table_counts() == {**before, "audit_events": before["audit_events"] + 1}


async def test_audit_trail_records_a_graphql_change(api: Api) -> None:
    project = await api.make_project(name="Audited")
    request_id = "gql-" + uuid.uuid4().hex
    response = await api.post(
        "/graphql",
        json={
            "query": UPDATE_PROJECT,
            "variables": {"id": project["key"], "input": {"name": "Audited twice"}},
        },
        headers={"X-Request-ID": request_id},
    )
    assert response.status_code == 200
    assert response.json()["data"]["updateProject"]["__typename"] == "ProjectPayload"

    events = await api.get("/api/v1/audit-events", params={"entity_id": project["id"]})
    assert events.status_code == 200
    items = events.json()["items"]
    assert [(e["action"], e["actor_name"]) for e in items] == [
        ("project.updated", "bootstrap admin"),
        ("project.created", "bootstrap admin"),
    ]
    assert items[0]["request_id"] == request_id
    assert items[0]["changes"] == {"name": {"before": "Audited", "after": "Audited twice"}}

    trail = await api.gql(
        """query($id: ID) { auditEvents(filter: {entityId: $id}) { nodes {
            action requestId changes entityId
            entity { __typename ... on Project { name } } } } }""",
        {"id": gid("Project", project["id"])},
    )
    assert trail["data"]["auditEvents"]["nodes"][0] == {
        "action": "project.updated",
        "requestId": request_id,
        "changes": {"name": {"before": "Audited", "after": "Audited twice"}},
        "entityId": project["id"],
        "entity": {"__typename": "Project", "name": "Audited twice"},
    }


# --- people and portfolios ---------------------------------------------------------------

PERSON_RESULT = """__typename ... on Error { code message }
    ... on ValidationError { errors { loc msg } }
    ... on PersonPayload { person { id uuid name email title skills { skill level }
        weeklyCapacityHours active version archivedAt } }"""


async def test_create_update_archive_person(api: Api) -> None:
    email = f"{uuid.uuid4().hex[:8]}@Example.com"
    created = result(
        await api.gql(
            f"""mutation($input: CreatePersonInput!) {{ createPerson(input: $input) {{
                {PERSON_RESULT} }} }}""",
            {
                "input": {
                    "name": "Grace Graph",
                    "email": email,
                    "skills": [{"skill": "scheduling", "level": 5}],
                    "weeklyCapacityHours": 32,
                }
            },
        ),
        "createPerson",
    )
    person = created["person"]
    assert person == {
        "id": gid("Person", person["uuid"]),
        "uuid": person["uuid"],
        "name": "Grace Graph",
        "email": email.lower(),
        "title": None,
        "skills": [{"skill": "scheduling", "level": 5}],
        "weeklyCapacityHours": 32.0,
        "active": True,
        "version": 1,
        "archivedAt": None,
    }
    update = f"""mutation($id: ID!, $input: UpdatePersonInput!, $version: Int) {{
        updatePerson(id: $id, input: $input, expectedVersion: $version) {{ {PERSON_RESULT}
        ... on VersionMismatchError {{ currentVersion }} }} }}"""
    updated = result(
        await api.gql(update, {"id": person["id"], "input": {"title": "PMO lead"}, "version": 1}),
        "updatePerson",
    )["person"]
    assert (updated["title"], updated["version"], updated["skills"]) == (
        "PMO lead",
        2,
        [{"skill": "scheduling", "level": 5}],
    )
    bad_level = result(
        await api.gql(
            update, {"id": person["uuid"], "input": {"skills": [{"skill": "x", "level": 9}]}}
        ),
        "updatePerson",
    )
    assert bad_level["errors"] == [
        {"loc": ["input", "skills", "0", "level"], "msg": "Input should be less than or equal to 5"}
    ]
    forbidden = result(
        await api.gql(update, {"id": person["uuid"], "input": {"title": "x"}}, role="manager"),
        "updatePerson",
    )
    assert (forbidden["__typename"], forbidden["code"]) == ("ForbiddenError", "role_forbidden")

    archive = f"""mutation($id: ID!, $version: Int) {{
        archivePerson(id: $id, expectedVersion: $version) {{ {PERSON_RESULT}
        ... on VersionMismatchError {{ currentVersion }} }} }}"""
    stale = result(await api.gql(archive, {"id": person["id"], "version": 1}), "archivePerson")
    assert (stale["__typename"], stale["currentVersion"]) == ("VersionMismatchError", 2)
    archived = result(await api.gql(archive, {"id": person["id"], "version": 2}), "archivePerson")
    assert archived["person"]["archivedAt"] is not None
    stored = await rest(api, f"/api/v1/people/{person['uuid']}")
    assert (stored["title"], stored["version"]) == ("PMO lead", 3)
    assert stored["archived_at"] is not None


PORTFOLIO_RESULT = """__typename ... on Error { code message }
    ... on ValidationError { errors { loc msg } }
    ... on PortfolioPayload { portfolio { id key name budgetCap version archivedAt
        owner { name } parent { key } } }"""


async def test_create_update_archive_portfolio(api: Api) -> None:
    owner = await api.make_person(name="Pat Owner")
    parent = await api.make_portfolio()
    key = new_key("PG")
    create = f"""mutation($input: CreatePortfolioInput!) {{ createPortfolio(input: $input) {{
        {PORTFOLIO_RESULT} }} }}"""
    portfolio = result(
        await api.gql(
            create,
            {
                "input": {
                    "key": key,
                    "name": "Graph programme",
                    "ownerId": gid("Person", owner["id"]),
                    "parentId": parent["id"],
                    "budgetCap": "125000.50",
                }
            },
            role="pmo",
        ),
        "createPortfolio",
    )["portfolio"]
    assert {k: v for k, v in portfolio.items() if k != "id"} == {
        "key": key,
        "name": "Graph programme",
        "budgetCap": 125000.5,
        "version": 1,
        "archivedAt": None,
        "owner": {"name": "Pat Owner"},
        "parent": {"key": parent["key"]},
    }

    update = f"""mutation($id: ID!, $input: UpdatePortfolioInput!) {{
        updatePortfolio(id: $id, input: $input) {{ {PORTFOLIO_RESULT} }} }}"""
    cycle = result(
        await api.gql(update, {"id": parent["key"], "input": {"parentId": portfolio["id"]}}),
        "updatePortfolio",
    )
    assert (cycle["__typename"], cycle["code"]) == ("ValidationError", "portfolio_cycle")
    assert cycle["errors"] == [{"loc": ["input", "parentId"], "msg": "would create a cycle"}]
    moved = result(
        await api.gql(update, {"id": key, "input": {"parentId": None, "budgetCap": 99.99}}),
        "updatePortfolio",
    )["portfolio"]
    assert (moved["parent"], moved["budgetCap"], moved["version"]) == (None, 99.99, 2)

    archive = f"""mutation($id: ID!) {{ archivePortfolio(id: $id) {{ {PORTFOLIO_RESULT} }} }}"""
    archived = result(await api.gql(archive, {"id": key}), "archivePortfolio")
    assert archived["portfolio"]["archivedAt"] is not None
    stored = await rest(api, f"/api/v1/portfolios/{key}")
    assert (stored["parent_id"], stored["budget_cap"], stored["version"]) == (None, 99.99, 3)


async def test_archiving_a_portfolio_with_projects_is_a_conflict(api: Api) -> None:
    portfolio = await api.make_portfolio()
    await api.make_project(portfolio["id"])
    body = await api.gql(
        f"""mutation($id: ID!) {{ archivePortfolio(id: $id) {{ {PORTFOLIO_RESULT} }} }}""",
        {"id": gid("Portfolio", portfolio["id"])},
    )
    assert result(body, "archivePortfolio") == {
        "__typename": "ConflictError",
        "code": "portfolio_not_empty",
        "message": "Archive or move the portfolio's projects and sub-portfolios first.",
    }
