"""The GraphQL door as relay-compiler reads it: every connection (top-level and nested)
gives each edge its cursor, ends its page with the last edge's cursor, and takes a
nullable ``first`` with a default; ``Portfolio.projects`` is batched like the other
nested connections; audit events are nodes."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pmo_api.api.graphql.schema import schema
from pmo_api.control import PROJECT_RECORDS
from pmo_api.core.pagination import DEFAULT_LIMIT
from tests.conftest import Api

TODAY = datetime.now(UTC).date()


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]
    return result


def gid(type_name: str, row_id: str) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


# --- the schema: every connection field and type ---------------------------------------


def _named(type_: Any) -> Any:
    while hasattr(type_, "of_type"):
        type_ = type_.of_type
    return type_


def _connection_fields() -> list[tuple[str, str, Any]]:
    graphql_schema = schema._schema
    found = []
    for type_name, type_ in graphql_schema.type_map.items():
        if type_name.startswith("__") or not hasattr(type_, "fields"):
            continue
        for field_name, field in type_.fields.items():
            if _named(field.type).name.endswith("Connection"):
                found.append((type_name, field_name, field))
    return found


def test_every_connection_takes_a_nullable_first_with_a_default() -> None:
    fields = _connection_fields()
    nested = {(t, f) for t, f, _ in fields if t != "Query"}
    assert nested >= {("Portfolio", "projects"), ("Project", "risks"), ("Project", "costs")}
    # people, portfolios, projects, auditEvents, objectives, lessons, policies, methodologies,
    # templates, audits, findings, courses, enrollments, certifications,
    # statusReports,
    # Portfolio.projects, and one under Project per record type (control.PROJECT_RECORDS)
    assert len(fields) == 16 + len(PROJECT_RECORDS), sorted((t, f) for t, f, _ in fields)
    for type_name, field_name, field in fields:
        first, after = field.args["first"], field.args["after"]
        where = f"{type_name}.{field_name}"
        assert str(first.type) == "Int", where  # nullable: a fragment's count may be null
        assert first.default_value == DEFAULT_LIMIT, where
        assert str(after.type) == "String", where


def test_every_edge_has_a_non_null_cursor() -> None:
    connections = {_named(field.type) for _, _, field in _connection_fields()}
    assert len(connections) >= 12
    for connection in connections:
        edge = _named(connection.fields["edges"].type)
        assert str(edge.fields["cursor"].type) == "String!", edge.name
        page_info = _named(connection.fields["pageInfo"].type)
        assert str(page_info.fields["endCursor"].type) == "String"
        assert str(page_info.fields["hasNextPage"].type) == "Boolean!"


# --- every connection, walked by its edges' cursors --------------------------------------


async def _post(api: Api, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(path, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _project_with_three_of_each(api: Api) -> dict[str, Any]:
    portfolio = await api.make_portfolio()
    project = await api.make_project(
        portfolio["id"], planned_start=str(TODAY), planned_end=str(TODAY + timedelta(days=90))
    )
    base = f"/api/v1/projects/{project['id']}"
    person = await api.make_person()
    for n in range(3):
        due = str(TODAY + timedelta(days=10 * n))
        await _post(api, f"{base}/milestones", {"name": f"m{n}", "due_date": due})
        await _post(api, f"{base}/deliverables", {"name": f"d{n}", "due_date": due})
        await _post(api, f"{base}/baselines", {"name": f"b{n}"})
        risk = {"title": f"r{n}", "probability": 1 + n, "impact": 2}
        await _post(api, f"{base}/risks", risk)
        await _post(api, f"{base}/issues", {"title": f"i{n}"})
        await _post(api, f"{base}/changes", {"title": f"c{n}"})
        cost = {"incurred_on": due, "amount": 10 + n, "category": "services", "description": "x"}
        await _post(api, f"{base}/costs", cost)
        assignment = {
            "person_id": person["id"],
            "role": f"role {n}",
            "allocation_percent": 10,
            "start_date": due,
            "end_date": str(TODAY + timedelta(days=100)),
        }
        await _post(api, f"{base}/assignments", assignment)
        start = TODAY - timedelta(days=14 * (n + 1))
        report = {
            "period_start": str(start),
            "period_end": str(start + timedelta(days=13)),
            "overall_health": "green",
            "summary": f"s{n}",
        }
        await _post(api, f"{base}/status-reports", report)
    for n in range(3):
        await api.make_project(portfolio["id"], key=f"{portfolio['key'][:12]}-{n}")
        await api.make_portfolio()
        await api.make_person()
    return {"portfolio": portfolio, "project": project}


def _at(result: Any, path: list[str]) -> Any:
    for name in path:
        result = result[name]
    return result


async def _check_connection(
    api: Api, query: str, variables: dict[str, Any], path: list[str]
) -> None:
    """Three edges, each with its cursor; resuming after each edge gives the ones that
    follow it; the page ends with the last edge's cursor, after which nothing follows."""
    variables = {**variables, "first": 3, "after": None}
    page = _at(data(await api.gql(query, variables)), path)
    edges = page["edges"]
    assert len(edges) == 3, (path, page)
    cursors = [edge["cursor"] for edge in edges]
    assert all(isinstance(c, str) and c for c in cursors) and len(set(cursors)) == 3, path
    assert page["pageInfo"]["endCursor"] == cursors[-1], path
    ids = [edge["node"]["id"] for edge in edges]
    for n, cursor in enumerate(cursors):
        resumed = _at(data(await api.gql(query, {**variables, "after": cursor})), path)
        assert [edge["node"]["id"] for edge in resumed["edges"]][: 2 - n] == ids[n + 1 :], path
    if not page["pageInfo"]["hasNextPage"]:
        rest = _at(data(await api.gql(query, {**variables, "after": cursors[-1]})), path)
        assert rest["edges"] == [] and rest["pageInfo"]["endCursor"] is None, path
    # first: null is the default page size, as when it is left out.
    defaulted = _at(data(await api.gql(query, {**variables, "first": None})), path)
    assert [edge["node"]["id"] for edge in defaulted["edges"]][:3] == ids, path


PAGE = "edges { cursor node { id } } pageInfo { hasNextPage endCursor }"
ARGS = "first: $first, after: $after"
VARS = "$first: Int, $after: String"


async def test_every_connection_walks_by_edge_cursors(api: Api) -> None:
    made = await _project_with_three_of_each(api)
    project, portfolio = made["project"], made["portfolio"]
    nested = [
        "statusReports",
        "milestones",
        "deliverables",
        "baselines",
        "risks",
        "issues",
        "changes",
        "costs",
        "assignments",
    ]
    for field in nested:
        query = f"""query($p: String!, {VARS}) {{
            project(idOrKey: $p) {{ {field}({ARGS}) {{ {PAGE} }} }} }}"""
        await _check_connection(api, query, {"p": project["key"]}, ["project", field])
    query = f"""query($pf: String!, {VARS}) {{
        portfolio(idOrKey: $pf) {{ projects({ARGS}) {{ {PAGE} }} }} }}"""
    await _check_connection(api, query, {"pf": portfolio["key"]}, ["portfolio", "projects"])

    top_level = {
        "projects": (f"projects({ARGS}, filter: {{portfolioId: $x}})", "ID"),
        "statusReports": (f"statusReports(project: $x, {ARGS})", "String!"),
        "auditEvents": (f"auditEvents({ARGS}, filter: {{entityId: $x}})", "ID"),
    }
    for name, (selection, kind) in top_level.items():
        query = f"query($x: {kind}, {VARS}) {{ {selection} {{ {PAGE} }} }}"
        value = portfolio["id"] if name == "projects" else project["id"]
        await _check_connection(api, query, {"x": value}, [name])
    for name in ("people", "portfolios"):
        query = f"query({VARS}) {{ {name}({ARGS}) {{ {PAGE} }} }}"
        await _check_connection(api, query, {}, [name])


# --- Portfolio.projects is batched --------------------------------------------------------

PORTFOLIO_PAGE = """query($root: ID!, $first: Int!, $sub: Boolean) {
  portfolios(first: $first, filter: {parentId: $root}) {
    nodes {
      key
      projects(first: 2, filter: {includeSubPortfolios: $sub}, sort: "-key") {
        nodes { key openRiskCount }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}"""


async def test_portfolio_projects_cost_the_same_whatever_the_page(api: Api) -> None:
    root = await api.make_portfolio()
    children = [await api.make_portfolio(parent_id=root["id"]) for _ in range(12)]
    expected: dict[str, list[str]] = {}
    for n, child in enumerate(children):
        keys = []
        for m in range(n % 4):  # 0 to 3 projects each
            project = await api.make_project(child["id"], key=f"{child['key'][:14]}-{m}")
            keys.append(project["key"])
        if n % 3 == 0:  # a nested program whose projects count with includeSubPortfolios
            program = await api.make_portfolio(parent_id=child["id"])
            project = await api.make_project(program["id"], key=f"{child['key'][:14]}-S")
            risk = {"title": "r", "probability": 2, "impact": 2}
            response = await api.post(f"/api/v1/projects/{project['id']}/risks", json=risk)
            assert response.status_code == 201, response.text
            expected[child["key"] + "+"] = [*keys, project["key"]]
        expected[child["key"]] = keys

    counts: dict[tuple[int, bool], int] = {}
    for sub in (False, True):
        for first in (3, 12):
            variables = {"root": root["id"], "first": first, "sub": sub}
            with api.count_statements() as counter:
                body = await api.gql(PORTFOLIO_PAGE, variables)
            counts[(first, sub)] = counter.count
            nodes = data(body)["portfolios"]["nodes"]
            assert len(nodes) == first
            for node in nodes:
                own = expected.get(node["key"] + "+", expected[node["key"]]) if sub else None
                keys = sorted(own if sub else expected[node["key"]], reverse=True)
                page = node["projects"]
                assert [p["key"] for p in page["nodes"]] == keys[:2]
                assert page["pageInfo"]["hasNextPage"] is (len(keys) > 2)
                for p in page["nodes"]:
                    assert p["openRiskCount"] == (1 if p["key"].endswith("-S") else 0)
    # key look-up, the page of portfolios, one statement for all their projects (open risk
    # counts in it); + BEGIN on SQLite
    expected_count = 4 if api.backend == "sqlite" else 3
    assert counts == dict.fromkeys(counts, expected_count), counts


async def test_portfolio_projects_continue_with_their_own_cursors(api: Api) -> None:
    portfolio = await api.make_portfolio()
    other = await api.make_portfolio()
    keys = sorted([(await api.make_project(portfolio["id"]))["key"] for _ in range(5)])
    await api.make_project(other["id"])
    nested = """query($pf: String!, $after: String) { portfolio(idOrKey: $pf) {
        projects(first: 2, after: $after) {
        nodes { key } pageInfo { hasNextPage endCursor } } } }"""
    top = """query($pf: ID, $after: String) { projects(first: 2, after: $after,
        filter: {portfolioId: $pf}) { nodes { key } pageInfo { hasNextPage endCursor } } }"""
    first = data(await api.gql(nested, {"pf": portfolio["key"]}))["portfolio"]["projects"]
    listed = data(await api.gql(top, {"pf": portfolio["id"]}))["projects"]
    # The nested list is the portfolio's list: the same page and the same cursor.
    assert first == listed
    after = first["pageInfo"]["endCursor"]
    second = data(await api.gql(nested, {"pf": portfolio["key"], "after": after}))
    assert [p["key"] for p in second["portfolio"]["projects"]["nodes"]] == keys[2:4]
    # A cursor of one portfolio's list is refused on another's.
    mismatch = await api.gql(nested, {"pf": other["key"], "after": after})
    assert mismatch["errors"][0]["extensions"]["code"] == "cursor_mismatch"


# --- audit events are nodes ---------------------------------------------------------------

EVENT = """query($id: ID!) { node(id: $id) { __typename id
    ... on AuditEvent { uuid action entityType entityId entity { id } } } }"""


async def test_audit_events_are_nodes_every_role_reads(api: Api) -> None:
    project = await api.make_project()
    listed = data(
        await api.gql(
            """query($id: ID) { auditEvents(filter: {entityId: $id}) {
            nodes { id uuid action entityType entityId } } }""",
            {"id": project["id"]},
        )
    )["auditEvents"]["nodes"]
    (created,) = listed
    assert created["id"] == gid("AuditEvent", created["uuid"])
    expected = {
        "__typename": "AuditEvent",
        **created,
        "entity": {"id": gid("Project", project["id"])},
    }
    # The same rule as REST's /api/v1/audit-events: every role reads the trail.
    for role in ("admin", "pmo", "manager", "viewer"):
        assert data(await api.gql(EVENT, {"id": created["id"]}, role))["node"] == expected
        rest = await api.get("/api/v1/audit-events", role, params={"entity_id": project["id"]})
        assert [event["id"] for event in rest.json()["items"]] == [created["uuid"]]
        # one event by id, over both doors
        one = await api.get(f"/api/v1/audit-events/{created['uuid']}", role)
        assert one.status_code == 200 and one.json() == rest.json()["items"][0]
        assert one.headers["etag"]
        unchanged = await api.get(
            f"/api/v1/audit-events/{created['uuid']}",
            role,
            headers={"If-None-Match": one.headers["etag"]},
        )
        assert unchanged.status_code == 304
        looked_up = data(
            await api.gql(
                "query($id: ID!) { auditEvent(id: $id) { id action entity { id } } }",
                {"id": created["id"]},
                role,
            )
        )["auditEvent"]
        assert looked_up == {
            "id": created["id"],
            "action": "project.created",
            "entity": {"id": gid("Project", project["id"])},
        }
    nothing = await api.get(f"/api/v1/audit-events/{uuid.uuid4()}")
    assert nothing.status_code == 404 and nothing.json()["code"] == "audit_event_not_found"
    # the actor's key filters by its UUID
    actor = (await api.get(f"/api/v1/audit-events/{created['uuid']}")).json()["actor_key_id"]
    assert actor is not None
    by_actor = data(
        await api.gql(
            "query($k: ID) { auditEvents(filter: {actorKeyId: $k}) { nodes { id } } }",
            {"k": actor},
        )
    )["auditEvents"]["nodes"]
    assert {"id": created["id"]} in by_actor

    missing = gid("AuditEvent", str(uuid.uuid4()))
    many = data(
        await api.gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [created["id"], missing]}
        )
    )
    assert many == {"nodes": [{"id": created["id"]}, None]}
