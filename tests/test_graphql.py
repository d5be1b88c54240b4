"""The GraphQL door through HTTP, on both databases: reads, nodes, connections, the
statement budget of nested queries, limits, and the HTTP envelope (401, 503, masking)."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from pmo_api.api.graphql.errors import MASKED_MESSAGE
from pmo_api.api.graphql.schema import build_schema, schema
from pmo_api.app import create_app
from pmo_api.settings import Settings
from tests.conftest import ADMIN_KEY, Api, start_api

README_QUERY = """
{ projects(first: 5) { edges { node { key name status portfolio { key name } manager { name } } }
  pageInfo { hasNextPage endCursor } } }
"""

PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance", "code", "request_id"}


def gid(type_name: str, row_id: str) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]
    return result


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body["errors"]]


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_FIELDS
    assert (body["status"], body["code"], body["instance"]) == (status, code, "/graphql")
    assert body["request_id"] == response.headers["x-request-id"]
    return body


# --- reading -----------------------------------------------------------------------------


async def test_readme_query_reads_nested_fields(api: Api) -> None:
    token = uuid.uuid4().hex[:10]
    portfolio = await api.make_portfolio(name=f"Portfolio {token}")
    manager = api.people["manager"]
    project = await api.make_project(
        portfolio["id"], name=f"Alpha {token}", manager_id=manager["id"], status="active"
    )
    await api.make_project(portfolio["id"], name=f"Beta {token}")

    result = data(await api.gql(README_QUERY))["projects"]
    assert len(result["edges"]) <= 5
    assert set(result["pageInfo"]) == {"hasNextPage", "endCursor"}

    query = README_QUERY.replace(
        "projects(first: 5)", 'projects(first: 5, filter: {q: $q}, sort: "name")'
    )
    query = "query($q: String) " + query.strip()
    result = data(await api.gql(query, {"q": token}))["projects"]
    # One page: no next page, and still an end cursor to ask later for what was added.
    assert result["pageInfo"]["hasNextPage"] is False
    assert result["pageInfo"]["endCursor"] is not None
    assert [edge["node"] for edge in result["edges"]] == [
        {
            "key": project["key"],
            "name": f"Alpha {token}",
            "status": "ACTIVE",
            "portfolio": {"key": portfolio["key"], "name": f"Portfolio {token}"},
            "manager": {"name": "Manager"},
        },
        {
            "key": result["edges"][1]["node"]["key"],
            "name": f"Beta {token}",
            "status": "PROPOSED",
            "portfolio": {"key": portfolio["key"], "name": f"Portfolio {token}"},
            "manager": None,
        },
    ]


async def test_project_fields_mirror_the_rest_read_model(api: Api) -> None:
    owner = await api.make_person(name="Olive Owner")
    parent = await api.make_portfolio(owner_id=owner["id"], budget_cap=1_000_000)
    child = await api.make_portfolio(parent_id=parent["id"])
    sponsor = await api.make_person(name="Sam Sponsor", skills=[{"skill": "finance", "level": 4}])
    project = await api.make_project(
        child["id"],
        sponsor_id=sponsor["id"],
        planned_budget=1234.5,
        planned_start="2027-01-01",
        planned_end="2027-06-30",
        percent_complete=40,
        attributes={"cost_center": "CC-1", "capex": True},
    )
    query = """query($ref: String!) { project(idOrKey: $ref) {
        id uuid key plannedBudget actualCost plannedStart plannedEnd percentComplete attributes
        version createdAt archivedAt health
        sponsor { name skills { skill level } }
        portfolio { key budgetCap parent { key budgetCap owner { name } parent { key } } } } }"""
    got = data(await api.gql(query, {"ref": project["key"]}))["project"]
    assert got == {
        "id": gid("Project", project["id"]),
        "uuid": project["id"],
        "key": project["key"],
        "plannedBudget": 1234.5,
        "actualCost": 0.0,
        "plannedStart": "2027-01-01",
        "plannedEnd": "2027-06-30",
        "percentComplete": 40,
        "attributes": {"cost_center": "CC-1", "capex": True},
        "version": 1,
        "createdAt": project["created_at"],
        "archivedAt": None,
        "health": "GREEN",
        "sponsor": {"name": "Sam Sponsor", "skills": [{"skill": "finance", "level": 4}]},
        "portfolio": {
            "key": child["key"],
            "budgetCap": None,
            "parent": {
                "key": parent["key"],
                "budgetCap": 1000000.0,
                "owner": {"name": "Olive Owner"},
                "parent": None,
            },
        },
    }
    assert got["createdAt"].endswith("Z")


async def test_lookups_accept_key_uuid_and_global_id(api: Api) -> None:
    project = await api.make_project()
    query = "query($ref: String!) { project(idOrKey: $ref) { key } }"
    for ref in (project["key"], project["id"], gid("Project", project["id"])):
        assert data(await api.gql(query, {"ref": ref})) == {"project": {"key": project["key"]}}

    missing = await api.gql(query, {"ref": "NOPE-404"})
    assert missing["data"] == {"project": None}
    assert error_codes(missing) == ["project_not_found"]
    assert missing["errors"][0]["path"] == ["project"]
    # Classified as the caller's doing, so clients (and fuzzers) don't take it for a crash.
    assert missing["errors"][0]["extensions"]["classification"] == "BAD_USER_INPUT"

    invalid = await api.gql(query, {"ref": "not a key"})
    assert error_codes(invalid) == ["invalid_identifier"]
    assert invalid["errors"][0]["extensions"]["classification"] == "BAD_USER_INPUT"
    assert invalid["errors"][0]["extensions"]["errors"] == [
        {
            "loc": ["idOrKey"],
            "msg": "must be a Project id or a key like ABC-12",
            "type": "value_error",
        }
    ]
    wrong_type = await api.gql(
        "query($id: ID!) { person(id: $id) { name } }", {"id": gid("Project", project["id"])}
    )
    assert error_codes(wrong_type) == ["invalid_identifier"]


async def test_node_round_trip_for_each_type(api: Api) -> None:
    person = await api.make_person(name="Node Person")
    portfolio = await api.make_portfolio()
    project = await api.make_project(portfolio["id"])
    query = """query($id: ID!) { node(id: $id) { __typename id
        ... on Person { uuid name } ... on Portfolio { uuid key } ... on Project { uuid key } } }"""
    cases = [
        ("Person", person["id"], {"name": "Node Person"}),
        ("Portfolio", portfolio["id"], {"key": portfolio["key"]}),
        ("Project", project["id"], {"key": project["key"]}),
    ]
    for type_name, row_id, fields in cases:
        global_id = gid(type_name, row_id)
        node = data(await api.gql(query, {"id": global_id}))["node"]
        assert node == {"__typename": type_name, "id": global_id, "uuid": row_id, **fields}

    # The id a type reports is the id node() takes back.
    listed = data(await api.gql('{ people(first: 1, sort: "-createdAt") { nodes { id } } }'))
    back = data(await api.gql(query, {"id": listed["people"]["nodes"][0]["id"]}))["node"]
    assert back["__typename"] == "Person"

    many = data(
        await api.gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            {"ids": [gid("Project", project["id"]), gid("Project", str(uuid.uuid4()))]},
        )
    )
    assert many == {"nodes": [{"id": gid("Project", project["id"])}, None]}

    unknown_type = await api.gql(query, {"id": gid("Galaxy", str(uuid.uuid4()))})
    assert data(unknown_type) == {"node": None}
    malformed = await api.gql(query, {"id": "not-a-global-id"})
    assert malformed["data"] == {"node": None}
    assert error_codes(malformed) == ["invalid_identifier"]


async def test_viewer_is_the_calling_key(api: Api) -> None:
    query = "{ viewer { name role person { uuid name } } }"
    assert data(await api.gql(query, role="viewer")) == {
        "viewer": {"name": "test viewer", "role": "VIEWER", "person": None}
    }
    manager = api.people["manager"]
    assert data(await api.gql(query, role="manager")) == {
        "viewer": {
            "name": "test manager",
            "role": "MANAGER",
            "person": {"uuid": manager["id"], "name": "Manager"},
        }
    }


async def test_sibling_root_fields_share_one_session(api: Api) -> None:
    query = """{ a: projects(first: 3) { nodes { key portfolio { key } } }
        b: portfolios(first: 3) { nodes { key owner { name } } }
        c: people(first: 3) { nodes { name } }
        d: auditEvents(first: 3) { nodes { action } }
        viewer { name } }"""
    result = data(await api.gql(query))
    assert set(result) == {"a", "b", "c", "d", "viewer"}
    assert len(result["a"]["nodes"]) == 3


async def test_filters_and_sort(api: Api) -> None:
    portfolio = await api.make_portfolio()
    await api.make_project(portfolio["id"], status="active", health="red", planned_budget=300)
    await api.make_project(portfolio["id"], status="active", planned_budget=100)
    await api.make_project(portfolio["id"], status="on_hold", planned_budget=200)
    query = """query($pf: ID, $sort: String) {
        projects(filter: {portfolioId: $pf, status: [ACTIVE, ON_HOLD]}, sort: $sort) {
        nodes { status health plannedBudget } } }"""
    variables = {"pf": gid("Portfolio", portfolio["id"]), "sort": "-plannedBudget"}
    nodes = data(await api.gql(query, variables))["projects"]["nodes"]
    assert [n["plannedBudget"] for n in nodes] == [300.0, 200.0, 100.0]
    variables = {"pf": portfolio["id"], "sort": "planned_budget"}
    nodes = data(await api.gql(query, variables))["projects"]["nodes"]
    assert [n["plannedBudget"] for n in nodes] == [100.0, 200.0, 300.0]

    red = data(
        await api.gql(
            "query($pf: ID) { projects(filter: {portfolioId: $pf, health: [RED]}) "
            "{ nodes { plannedBudget } } }",
            {"pf": portfolio["id"]},
        )
    )
    assert red == {"projects": {"nodes": [{"plannedBudget": 300.0}]}}

    bad_sort = await api.gql('{ projects(sort: "secret") { nodes { key } } }')
    assert bad_sort["data"] is None
    assert error_codes(bad_sort) == ["invalid_sort"]
    assert bad_sort["errors"][0]["extensions"]["errors"][0]["loc"] == ["sort"]

    bad_filter = await api.gql('{ projects(filter: {managerId: "nope"}) { nodes { key } } }')
    assert error_codes(bad_filter) == ["validation_failed"]
    assert bad_filter["errors"][0]["extensions"]["errors"][0]["loc"] == ["filter", "managerId"]


# --- connections -------------------------------------------------------------------------


async def _walk(api: Api, query: str, variables: dict[str, Any], path: list[str]) -> list[Any]:
    pages = []
    after = None
    while True:
        result: Any = data(await api.gql(query, {**variables, "after": after}))
        for name in path:
            result = result[name]
        pages.append(result)
        after = result["pageInfo"]["endCursor"]
        if not result["pageInfo"]["hasNextPage"]:
            # The last page's end cursor continues too: with nothing, until rows are added.
            rest: Any = data(await api.gql(query, {**variables, "after": after}))
            for name in path:
                rest = rest[name]
            assert rest["edges"] == []
            assert rest["pageInfo"] == {"hasNextPage": False, "endCursor": None}
            return pages
        assert len(pages) < 20


async def test_pagination_walks_without_repeats_or_skips(api: Api) -> None:
    portfolio = await api.make_portfolio()
    created = sorted([(await api.make_project(portfolio["id"]))["key"] for _ in range(7)])

    top_level = """query($pf: ID, $after: String) {
        projects(first: 3, after: $after, filter: {portfolioId: $pf}) {
        edges { cursor node { key } } pageInfo { hasNextPage endCursor } } }"""
    nested = """query($pf: String!, $after: String) { portfolio(idOrKey: $pf) {
        projects(first: 3, after: $after) {
        edges { cursor node { key } } pageInfo { hasNextPage endCursor } } } }"""
    for query, path in ((top_level, ["projects"]), (nested, ["portfolio", "projects"])):
        pages = await _walk(api, query, {"pf": portfolio["id"]}, path)
        assert [len(page["edges"]) for page in pages] == [3, 3, 1]
        assert [page["pageInfo"]["hasNextPage"] for page in pages] == [True, True, False]
        walked = [edge["node"]["key"] for page in pages for edge in page["edges"]]
        assert walked == created
        for page in pages:
            # Every edge carries its cursor; the page ends with the last one's.
            cursors = [edge["cursor"] for edge in page["edges"]]
            assert all(cursors) and len(set(cursors)) == len(cursors)
            assert cursors[-1] == page["pageInfo"]["endCursor"]


async def test_page_arguments_are_checked(api: Api) -> None:
    for first in (0, 201):
        body = await api.gql(f"{{ projects(first: {first}) {{ nodes {{ key }} }} }}")
        assert body["data"] is None
        assert error_codes(body) == ["invalid_page_arguments"]
        assert body["errors"][0]["extensions"]["errors"] == [
            {"loc": ["first"], "msg": "must be between 1 and 200", "type": "value_error"}
        ]
    assert len(data(await api.gql("{ projects(first: 200) { nodes { key } } }"))) == 1

    forged = await api.gql('{ projects(after: "eyJmIjoxfQ.abc") { nodes { key } } }')
    assert error_codes(forged) == ["invalid_cursor"]
    assert forged["errors"][0]["extensions"]["errors"][0]["loc"] == ["after"]

    first_page = data(await api.gql("{ projects(first: 1) { pageInfo { endCursor } } }"))
    cursor = first_page["projects"]["pageInfo"]["endCursor"]
    assert cursor is not None
    mismatch = await api.gql(
        'query($after: String) { projects(first: 1, after: $after, sort: "name") '
        "{ nodes { key } } }",
        {"after": cursor},
    )
    assert error_codes(mismatch) == ["cursor_mismatch"]


# --- the statement budget of nested queries ----------------------------------------------

NESTED_PAGE = """query($q: String, $first: Int!) {
    projects(first: $first, filter: {q: $q}) {
    edges { node { key name status portfolio { key name } manager { name } } }
    pageInfo { hasNextPage endCursor } } }"""

DEEPER_PAGE = """query($q: String, $first: Int!) {
    projects(first: $first, filter: {q: $q}) { nodes { key
    portfolio { key owner { name } parent { key } } manager { name } sponsor { name } } } }"""


async def test_nested_page_costs_a_fixed_number_of_statements(api: Api) -> None:
    token = uuid.uuid4().hex[:12]
    managers = [await api.make_person(name=f"Manager {i}") for i in range(5)]
    owner = await api.make_person(name="Owner")
    root = await api.make_portfolio()
    portfolios = [
        await api.make_portfolio(owner_id=owner["id"], parent_id=root["id"]) for _ in range(3)
    ]
    for i in range(50):
        await api.make_project(
            portfolios[i % 3]["id"],
            name=f"Bench {token} {i:02}",
            manager_id=managers[i % 5]["id"],
            sponsor_id=managers[(i + 1) % 5]["id"],
        )

    # A query reads as REST's GETs do, without a transaction (no BEGIN, no COMMIT):
    # authenticate + list projects + one batch of portfolios + one batch of people
    expected_nested = 4
    # ... + one batch of owners (people) and parents (portfolios), the next level down
    expected_deeper = 6
    for first in (10, 50):
        with api.count_statements() as counter:
            body = await api.gql(NESTED_PAGE, {"q": token, "first": first})
        nodes = [edge["node"] for edge in data(body)["projects"]["edges"]]
        assert len(nodes) == first
        assert all(n["portfolio"]["key"] and n["manager"]["name"] for n in nodes)
        assert counter.count == expected_nested, counter.statements

        with api.count_statements() as counter:
            body = await api.gql(DEEPER_PAGE, {"q": token, "first": first})
        nodes = data(body)["projects"]["nodes"]
        assert len(nodes) == first
        assert all(n["portfolio"]["owner"] == {"name": "Owner"} for n in nodes)
        assert all(n["portfolio"]["parent"] == {"key": root["key"]} for n in nodes)
        assert counter.count == expected_deeper, counter.statements


# --- HTTP envelope -----------------------------------------------------------------------


async def test_missing_or_invalid_key_is_401_before_anything_runs(api: Api) -> None:
    before = await api.table_counts()
    mutation = {
        "query": 'mutation { createPortfolio(input: {key: "NOAUTH-1", name: "x"}) { __typename } }'
    }
    missing = await api.http.post("/graphql", json=mutation)
    assert_problem(missing, 401, "missing_credentials")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    invalid = await api.http.post(
        "/graphql", json=mutation, headers={"Authorization": "Bearer pmo_unknown"}
    )
    assert_problem(invalid, 401, "invalid_credentials")
    get = await api.http.get("/graphql", params={"query": "{ viewer { name } }"})
    assert_problem(get, 401, "missing_credentials")
    assert await api.table_counts() == before


async def test_get_queries_and_refusals(api: Api) -> None:
    response = await api.get("/graphql", params={"query": "{ viewer { role } }"})
    assert response.status_code == 200
    assert response.json() == {
        "data": {"viewer": {"role": "ADMIN"}},
        "extensions": {"cost": {"requested": 2, "limit": 50_000}},  # cost.py
    }
    project = await api.make_project()
    params = {
        "query": "query A { viewer { role } } "
        "query B($k: String!) { project(idOrKey: $k) { key } }",
        "variables": f'{{"k": "{project["key"]}"}}',
        "operationName": "B",
    }
    response = await api.get("/graphql", params=params)
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"project": {"key": project["key"]}}
    unknown = await api.get("/graphql", params={**params, "debug": "1"})
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_parameter"

    mutation = 'mutation { archiveProject(id: "NOPE-1") { __typename } }'
    refused = await api.get("/graphql", params={"query": mutation})
    body = assert_problem(refused, 400, "bad_request")
    assert body["detail"] == "mutations are not allowed when using GET"

    not_json = await api.post(
        "/graphql", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert_problem(not_json, 400, "bad_request")

    ide = await api.http.get("/graphql", headers={"accept": "text/html"})
    assert ide.status_code == 200
    assert ide.headers["content-type"].startswith("text/html")


async def test_queries_read_and_mutations_write(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A query reads without a session where its rows come from the reads (as REST's
    GETs), on a read session where a service asks for one; a mutation runs on a write
    session (on SQLite a read session begins deferred, a write session takes the write
    lock up front)."""
    state = api.app.state.pmo
    used: list[str] = []
    for kind, attribute in (("read", "read_sessions"), ("write", "sessions")):
        factory = getattr(state, attribute)

        def spy(factory: Any = factory, kind: str = kind) -> Any:
            used.append(kind)
            return factory()

        monkeypatch.setattr(state, attribute, spy)
    data(await api.gql("query Read { viewer { name } }"))
    assert used == []
    missing = await api.gql('query Read { project(idOrKey: "NOPE-1") { key } }')
    assert missing["data"] == {"project": None}
    assert used == []  # a resource is read as a row, as a REST GET reads it
    nobody = await api.gql(f'query Read {{ risk(id: "{uuid.uuid4()}") {{ title }} }}')
    assert nobody["data"] == {"risk": None}
    assert used == ["read"]
    used.clear()
    response = await api.post(
        "/graphql",
        json={
            "query": "query Read { viewer { name } } "
            'mutation Write { archiveProject(id: "NOPE-1") { __typename } }',
            "operationName": "Write",
        },
    )
    assert response.json()["data"] == {"archiveProject": {"__typename": "NotFoundError"}}
    assert used == ["write"]


async def test_unexpected_errors_are_masked_and_logged(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_args: Any) -> Any:
        raise RuntimeError("boom: SELECT secret_hash FROM api_keys")

    monkeypatch.setattr("pmo_api.resources.service.read_list", broken)
    response = await api.post(
        "/graphql", json={"query": "{ projects { nodes { key } } viewer { name } }"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None  # projects is non-null: its error nulls the whole result
    assert body["errors"] == [
        {
            "message": MASKED_MESSAGE,
            "locations": [{"line": 1, "column": 3}],
            "path": ["projects"],
            "extensions": {"code": "internal_error"},
        }
    ]
    assert "SELECT" not in response.text and "boom" not in response.text
    logged = [r for r in caplog.records if r.name == "pmo_api.graphql"]
    assert [r.getMessage() for r in logged] == ["unexpected error in GraphQL field projects"]
    assert logged[0].exc_info is not None


async def test_database_lost_during_execution_is_503(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def gone(*_args: Any) -> Any:
        raise OperationalError("SELECT 1", None, ConnectionError("server closed the connection"))

    monkeypatch.setattr("pmo_api.resources.service.read_list", gone)
    response = await api.post("/graphql", json={"query": "{ projects { nodes { key } } }"})
    assert_problem(response, 503, "database_unavailable")
    assert response.headers["retry-after"] == "2"
    assert "SELECT" not in response.text


async def test_database_unreachable_is_503(tmp_path: Path) -> None:
    app = create_app(
        Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/missing/dir/pmo.db",
            bootstrap_admin_key=ADMIN_KEY,
            auto_migrate=False,
            log_level="ERROR",
        )
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ viewer { name } }"},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )
    await app.state.pmo.engine.dispose()
    assert_problem(response, 503, "database_unavailable")
    assert response.headers["retry-after"] == "2"


# --- limits and introspection ------------------------------------------------------------


def _deep_query(levels: int) -> str:
    inner = "key"
    for _ in range(levels):
        inner = f"parent {{ {inner} }}"
    return f"{{ portfolios(first: 1) {{ nodes {{ {inner} }} }} }}"


async def test_depth_alias_and_token_limits(api: Api) -> None:
    # portfolios (depth 0) > nodes > parent x8 > key (depth 10): the default limit
    assert "errors" not in await api.gql(_deep_query(8))
    too_deep = await api.gql(_deep_query(9))
    assert too_deep["data"] is None
    assert [e["message"] for e in too_deep["errors"]] == [
        "'anonymous' exceeds maximum operation depth of 10"
    ]
    assert error_codes(too_deep) == ["invalid_query"]

    aliases = " ".join(f"a{i}: viewer {{ name }}" for i in range(31))
    refused = await api.gql(f"{{ {aliases} }}")
    assert [e["message"] for e in refused["errors"]] == ["31 aliases found. Allowed: 30"]
    thirty = " ".join(f"a{i}: viewer {{ name }}" for i in range(30))
    assert len(data(await api.gql(f"{{ {thirty} }}"))) == 30

    fields = " ".join("name" for _ in range(5000))
    tokens = await api.gql(f"{{ viewer {{ {fields} }} }}")
    assert tokens["data"] is None
    assert tokens["errors"][0]["message"] == (
        "Syntax Error: Document contains more than 5000 tokens. Parsing aborted."
    )


INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_is_on_by_default(api: Api) -> None:
    assert data(await api.gql(INTROSPECTION)) == {"__schema": {"queryType": {"name": "Query"}}}
    misspelt = await api.gql("{ projectz { nodes { key } } }")
    assert misspelt["errors"][0]["message"] == (
        "Cannot query field 'projectz' on type 'Query'. Did you mean 'project' or 'projects'?"
    )


async def test_introspection_ide_and_depth_follow_settings(backend: str, tmp_path: Path) -> None:
    closed, stop = await start_api(
        backend,
        tmp_path,
        graphql_introspection=False,
        graphql_ide=False,
        graphql_max_depth=3,
    )
    try:
        refused = await closed.gql(INTROSPECTION)
        assert refused["data"] is None
        assert refused["errors"][0]["message"].startswith("GraphQL introspection has been disabled")
        type_query = await closed.gql('{ __type(name: "Project") { name } }')
        assert type_query["data"] is None
        assert data(await closed.gql("{ viewer { __typename name } }")) == {
            "viewer": {"__typename": "Viewer", "name": "bootstrap admin"}
        }
        misspelt = await closed.gql("{ projectz { nodes { key } } }")
        assert misspelt["errors"][0]["message"] == "Cannot query field 'projectz' on type 'Query'."
        assert "errors" not in await closed.gql("{ projects { nodes { portfolio { key } } } }")
        too_deep = await closed.gql("{ projects { nodes { portfolio { owner { name } } } } }")
        assert too_deep["errors"][0]["message"] == (
            "'anonymous' exceeds maximum operation depth of 3"
        )
        ide = await closed.http.get("/graphql", headers={"accept": "text/html"})
        assert_problem(ide, 404, "not_found")
    finally:
        await stop()


# --- the SDL -----------------------------------------------------------------------------


def test_sdl_is_deterministic_and_independent_of_limits() -> None:
    sdl = str(schema)
    assert sdl == str(build_schema(Settings.model_construct()))
    assert sdl == str(
        build_schema(Settings.model_construct(graphql_introspection=False, graphql_max_depth=3))
    )
    for line in (
        "interface Node {",
        "type Project implements Node {",
        "union UpdateProjectResult = ProjectPayload | NotFoundError | ForbiddenError | "
        "VersionMismatchError | ValidationError | ConflictError",
        "    filter: ProjectFilter = null\n    sort: String = null\n  ): ProjectConnection!",
        "  currentVersion: Int\n",
        "scalar Money",
    ):
        assert line in sdl


async def test_page_nested_objects_are_loaded_once_for_the_page(api: Api) -> None:
    """A page's portfolios and managers are loaded for all its nodes at once when the
    query asks for them (under edges, nodes or a fragment), and the answers are the
    same as each node's own: a project without a manager has none."""
    portfolio = await api.make_portfolio()
    ada = await api.make_person(name="Ada")
    managed = await api.make_project(portfolio["id"], key="PL-1", manager_id=ada["id"])
    unmanaged = await api.make_project(portfolio["id"], key="PL-2")
    variables = {"pf": portfolio["id"]}
    expected = {
        managed["key"]: {"portfolio": {"key": portfolio["key"]}, "manager": {"name": "Ada"}},
        unmanaged["key"]: {"portfolio": {"key": portfolio["key"]}, "manager": None},
    }
    head = 'query($pf: ID) { projects(filter: {portfolioId: $pf}, sort: "key") { '
    fields = "key portfolio { key } manager { name }"
    for query in (
        head + "edges { node { " + fields + " } } } }",
        head + "nodes { " + fields + " } } }",
        head + "nodes { ...P } } } fragment P on Project { " + fields + " }",
    ):
        body = await api.gql(query, variables)
        assert "errors" not in body, (query, body)
        listed = body["data"]["projects"]
        nodes = [e["node"] for e in listed["edges"]] if "edges" in listed else listed["nodes"]
        assert {n["key"]: {k: n[k] for k in ("portfolio", "manager")} for n in nodes} == (
            expected
        ), query
    # Asking for neither loads neither: the key look-up and the page alone.
    with api.count_statements(cold_auth=False) as counter:
        body = await api.gql(
            "query($pf: ID) { projects(filter: {portfolioId: $pf}) { nodes { key } } }",
            variables,
        )
    assert "errors" not in body
    reads = [s for s in counter.statements if s.split()[0] not in ("BEGIN", "COMMIT")]
    assert len(reads) == 1, counter.statements


async def test_posts_refuse_unknown_query_parameters_and_keys_in_the_url(api: Api) -> None:
    body = {"query": "{ viewer { role } }"}
    unknown = await api.post("/graphql?debug=1", json=body)
    assert_problem(unknown, 422, "unknown_parameter")
    in_url = await api.http.post("/graphql?api_key=pmo_x", json=body)
    assert_problem(in_url, 401, "credentials_in_query")
    declared = await api.post("/graphql?operationName=A", json=body)
    assert declared.status_code == 200, declared.text
    assert declared.json()["data"] == {"viewer": {"role": "ADMIN"}}
    # the answer's own length is declared (an HTTP client reads exactly that much)
    assert declared.headers["content-length"] == str(len(declared.content))
