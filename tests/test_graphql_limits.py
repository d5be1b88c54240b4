"""The GraphQL door's limits, on both databases: depth, aliases, query cost, the page
size bound, batching and introspection. A refused query runs no SQL statement at all
(the caller's key is already in the process's cache, as it is for any client that has
made a request in the last few seconds); an answered one reports its cost.

The statements counted are the app's (its engine and its reads). A refused query still
costs 1 of its key's rate-limit budget (api/ratelimit.py): on PostgreSQL that charge is
an upsert on the rate limiter's own connection, outside the query's work, and is not
counted here (tests/test_rate_limits.py shows what it charges)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from graphql import parse

from pmo_api.api.graphql.cost import CostTable, operation_cost
from pmo_api.api.graphql.schema import schema
from pmo_api.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from pmo_api.settings import Settings
from tests.conftest import Api, start_api

LIMIT = Settings.model_construct().graphql_max_cost

NESTED = """query Nested($size: Int) {
  projects(first: $size) { nodes { key risks(first: $size) { nodes { title } } } } }"""


def nested_cost(size: int) -> int:
    """projects 1 + size x (nodes 1 + key 1 + risks 1 + size x (nodes 1 + title 1))."""
    return 1 + size * (3 + size * 2)


async def refused_without_sql(
    api: Api, body: Any, status: int = 200
) -> tuple[httpx.Response, dict[str, Any]]:
    """Send ``body`` with a warm key cache, and check that no SQL statement ran."""
    await api.gql("{ viewer { name } }")  # the key is now in the cache
    with api.count_statements(cold_auth=False) as counter:
        response = await api.post("/graphql", json=body)
    assert response.status_code == status, response.text
    assert counter.statements == []
    answer: dict[str, Any] = response.json()
    return response, answer


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body["errors"]]


def deep_query(levels: int) -> str:
    inner = "key"
    for _ in range(levels):
        inner = f"parent {{ {inner} }}"
    return f"{{ portfolios(first: 1) {{ nodes {{ {inner} }} }} }}"


async def test_too_deep_a_query_is_refused_before_any_sql(api: Api) -> None:
    _, body = await refused_without_sql(api, {"query": deep_query(9)})
    assert body["data"] is None
    assert codes(body) == ["invalid_query"]
    assert body["errors"][0]["message"] == "'anonymous' exceeds maximum operation depth of 10"


async def test_a_thousand_aliases_are_refused_before_any_sql(api: Api) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(1000))
    _, body = await refused_without_sql(api, {"query": f"{{ {aliases} }}"})
    assert body["data"] is None
    assert codes(body) == ["invalid_query"]
    assert body["errors"][0]["message"] == "1000 aliases found. Allowed: 30"


async def test_nested_connections_over_the_cost_limit_are_refused_before_any_sql(
    api: Api,
) -> None:
    assert nested_cost(200) > LIMIT  # 80,601: 200 projects x 200 risks each
    _, body = await refused_without_sql(api, {"query": NESTED, "variables": {"size": 200}})
    assert body["data"] is None
    assert body["errors"] == [
        {
            "message": f"The query costs {nested_cost(200)}, more than the limit of {LIMIT}: "
            "ask for smaller pages (first) or fewer nested connections.",
            "extensions": {"code": "query_too_expensive", "cost": 80_601, "limit": LIMIT},
        }
    ]
    assert body["extensions"] == {"cost": {"requested": 80_601, "limit": LIMIT}}

    # The same document with smaller pages is within the limit, and runs.
    answered = await api.gql(NESTED, {"size": 100})
    assert "errors" not in answered, answered["errors"]
    assert answered["extensions"] == {"cost": {"requested": nested_cost(100), "limit": LIMIT}}


async def test_an_answered_query_reports_its_cost(api: Api) -> None:
    body = await api.gql("{ viewer { name } projects(first: 5) { nodes { key } } }")
    assert "errors" not in body
    # viewer 1 + name 1, projects 1 + 5 x (nodes 1 + key 1)
    assert body["extensions"] == {"cost": {"requested": 13, "limit": LIMIT}}
    # first left out is the connection's default page; a fragment counts where spread
    body = await api.gql(
        "query { projects { ...Keys } } fragment Keys on ProjectConnection { nodes { key } }"
    )
    assert body["extensions"]["cost"]["requested"] == 1 + DEFAULT_LIMIT * 2


async def test_first_above_the_bound_is_refused_before_any_sql(api: Api) -> None:
    query = f"{{ projects(first: {MAX_LIMIT + 1}) {{ nodes {{ key }} }} }}"
    _, body = await refused_without_sql(api, {"query": query})
    assert codes(body) == ["invalid_page_arguments"]
    assert body["errors"][0]["extensions"]["errors"] == [
        {"loc": ["first"], "msg": f"must be between 1 and {MAX_LIMIT}", "type": "value_error"}
    ]


async def test_batched_operations_are_refused(api: Api) -> None:
    batch = [{"query": "{ viewer { name } }"}, {"query": "{ projects { nodes { key } } }"}]
    response, body = await refused_without_sql(api, batch, status=400)
    assert response.headers["content-type"] == "application/problem+json"
    assert (body["code"], body["detail"]) == ("bad_request", "Batching is not enabled")


async def test_introspection_and_the_cost_limit_follow_settings(
    backend: str, tmp_path: Path
) -> None:
    closed, stop = await start_api(
        backend, tmp_path, graphql_introspection=False, graphql_max_cost=20
    )
    try:
        await closed.gql("{ __typename }")  # the key is now in the cache
        with closed.count_statements(cold_auth=False) as counter:
            introspection = await closed.gql("{ __schema { queryType { name } } }")
            expensive = await closed.gql("{ projects(first: 10) { nodes { key } } }")
        assert counter.statements == []
        assert introspection["data"] is None
        assert introspection["errors"][0]["message"].startswith(
            "GraphQL introspection has been disabled"
        )
        assert codes(expensive) == ["query_too_expensive"]
        assert expensive["extensions"] == {"cost": {"requested": 21, "limit": 20}}
        cheap = await closed.gql("{ projects(first: 9) { nodes { key } } }")
        assert cheap["extensions"] == {"cost": {"requested": 19, "limit": 20}}
    finally:
        await stop()


# --- the cost rule itself ------------------------------------------------------------------


def cost(query: str, variables: dict[str, Any] | None = None, name: str | None = None) -> int:
    return operation_cost(schema._schema, parse(query), name, variables)[0]


def test_each_field_costs_one_and_a_page_multiplies_what_is_beneath_it() -> None:
    assert cost("{ viewer { name role } }") == 3
    assert cost("{ projects(first: 3) { pageInfo { hasNextPage } } }") == 1 + 3 * 2
    assert cost(NESTED, {"size": 10}) == nested_cost(10)
    # a page size the resolver refuses counts as the largest it accepts
    assert cost(NESTED, {"size": 10_000}) == nested_cost(MAX_LIMIT)


def test_page_sizes_from_variables_defaults_and_null() -> None:
    query = "query($n: Int = 7) { projects(first: $n) { nodes { key } } }"
    assert cost(query) == 1 + 7 * 2  # the variable's default
    assert cost(query, {"n": 3}) == 1 + 3 * 2
    assert cost(query, {"n": None}) == 1 + DEFAULT_LIMIT * 2  # null: the default page
    unset = "query($n: Int) { projects(first: $n) { nodes { key } } }"
    assert cost(unset) == 1 + DEFAULT_LIMIT * 2  # not given: the field's default
    suggested = '{ project(idOrKey: "P-1") { suggestedLessons { __typename } } }'
    assert cost(suggested) == 1 + 1 + 10 * 1  # suggestedLessons' own default (10)


def test_fragments_count_where_they_are_spread() -> None:
    inline = "{ nodes(ids: []) { ... on Project { key risks(first: 4) { nodes { title } } } } }"
    assert cost(inline) == 1 + 1 + (1 + 4 * 2)
    named = """query Q { projects(first: 2) { nodes { ...P } } a: project(idOrKey: "A-1") { ...P } }
        fragment P on Project { key milestones(first: 3) { nodes { ...M } } }
        fragment M on Milestone { title dueDate }"""
    project = 1 + (1 + 3 * (1 + 2))  # key, milestones 1 + 3 x (nodes 1 + title + dueDate)
    assert cost(named, name="Q") == (1 + 2 * (1 + project)) + (1 + project)


def test_costs_are_kept_per_document_and_page_sizes() -> None:
    table = CostTable(size=4)
    document = parse(NESTED)
    assert table.cost(schema._schema, NESTED, document, "Nested", {"size": 5}) == nested_cost(5)
    assert table.cost(schema._schema, NESTED, document, "Nested", {"size": 6}) == nested_cost(6)
    # the kept cost is found without walking the document (given another one here)
    other = parse("{ __typename }")
    assert table.cost(schema._schema, NESTED, other, "Nested", {"size": 5}) == nested_cost(5)
    fixed = "{ projects(first: 2) { nodes { key } } }"
    assert table.cost(schema._schema, fixed, parse(fixed), None, {"unrelated": 1}) == 5
    assert table.cost(schema._schema, fixed, other, None, {"unrelated": 2}) == 5
