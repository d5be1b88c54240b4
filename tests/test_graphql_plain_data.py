"""Plain data answered without a resolver call per field (api/graphql/execution.py):
the same answers as graphql-core's ordinary execution, for the selections it takes
and for those it leaves (arguments, abstract types, values not loaded yet, errors),
and nothing kept once a request is answered."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from pmo_api.api.graphql import execution
from tests.conftest import Api

PAGE = """
query Page($pf: ID!) {
  projects(first: 10, filter: {portfolioId: $pf}) {
    __typename
    edges {
      cursor
      node {
        __typename key name status health plannedBudget attributes createdAt
        openRiskCount
        manager { name email skills { skill level } }
        ...Where
        boss: manager { name }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
fragment Where on Project { portfolio { key name } }
"""

NESTED = """
query Nested($pf: ID!) {
  projects(first: 10, filter: {portfolioId: $pf}) {
    edges { node { key sponsor { name } risks(first: 2) { edges { node { title score } } } } }
  }
}
"""

SINGLE = """
query One($key: String!) {
  project(idOrKey: $key) { key manager { name } portfolio { key } openRiskCount }
}
"""


@pytest.fixture
def ordinary() -> Iterator[Any]:
    """A switch: ``ordinary(True)`` executes every field the ordinary way."""
    fast = execution.PlainDataExecutionContext.execute_fields

    def switch(on: bool) -> None:
        execution.PlainDataExecutionContext.execute_fields = (  # type: ignore[method-assign]
            StrawberryGraphQLCoreExecutionContext.execute_fields if on else fast
        )

    yield switch
    execution.PlainDataExecutionContext.execute_fields = fast  # type: ignore[method-assign]


@pytest.fixture
def answered_plainly(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The objects whose selections were answered here, by class, one entry each."""
    answered: list[str] = []
    run = execution.PlainDataExecutionContext._run

    def spy(self: Any, plan: Any, source: Any) -> dict[str, Any]:
        result = run(self, plan, source)
        answered.append(type(source).__name__)
        return result

    monkeypatch.setattr(execution.PlainDataExecutionContext, "_run", spy)
    return answered


async def _portfolio_with_projects(api: Api) -> dict[str, Any]:
    portfolio = await api.make_portfolio()
    manager = await api.make_person(skills=[{"skill": "scheduling", "level": 4}])
    sponsor = await api.make_person()
    for n in range(3):
        project = await api.make_project(
            portfolio["id"],
            manager_id=manager["id"] if n != 1 else None,
            sponsor_id=sponsor["id"],
            attributes={"cost_center": f"CC-{n}"},
            planned_budget="1000.50",
        )
        response = await api.post(
            f"/api/v1/projects/{project['id']}/risks",
            json={"title": f"Risk {n}", "probability": 3, "impact": 4},
        )
        assert response.status_code == 201, response.text
    return portfolio


async def _asked(api: Api, query: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A portfolio with projects, and ``query``'s answer for it (no errors)."""
    portfolio = await _portfolio_with_projects(api)
    variables = {"pf": portfolio["id"]}
    answer = await api.gql(query, variables)
    assert "errors" not in answer, answer
    return portfolio, answer


async def test_a_page_of_plain_data_answers_as_the_ordinary_execution(
    api: Api, ordinary: Any, answered_plainly: list[str]
) -> None:
    portfolio, fast = await _asked(api, PAGE)
    variables = {"pf": portfolio["id"]}
    # the whole connection in one go: edges, nodes, managers and portfolios within it
    assert answered_plainly.count("Connection") == 1
    assert answered_plainly.count("ProjectRow") == 3  # the rows the page read
    assert answered_plainly.count("PersonRow") == 4  # manager and boss, on two projects
    ordinary(True)
    answered_plainly.clear()
    slow = await api.gql(PAGE, variables)
    assert answered_plainly == []
    assert fast == slow
    nodes = [edge["node"] for edge in fast["data"]["projects"]["edges"]]
    assert [node["__typename"] for node in nodes] == ["Project"] * 3
    assert {node["openRiskCount"] for node in nodes} == {1}
    assert [node["manager"] is None for node in nodes].count(True) == 1
    with_manager = next(node for node in nodes if node["manager"] is not None)
    assert with_manager["manager"]["skills"] == [{"skill": "scheduling", "level": 4}]
    assert with_manager["boss"] == {"name": with_manager["manager"]["name"]}
    assert with_manager["portfolio"]["key"] == portfolio["key"]
    assert with_manager["plannedBudget"] == 1000.5
    assert with_manager["attributes"]["cost_center"].startswith("CC-")


async def test_what_is_not_plain_data_is_executed_the_ordinary_way(
    api: Api, ordinary: Any, answered_plainly: list[str]
) -> None:
    portfolio, fast = await _asked(api, NESTED)
    variables = {"pf": portfolio["id"]}
    # a field with arguments (risks) and an asynchronous resolver (sponsor): the
    # projects go the ordinary way; what they hold that is plain is answered here
    assert "ProjectRow" not in answered_plainly
    assert "Risk" in answered_plainly
    ordinary(True)
    assert fast == await api.gql(NESTED, variables)
    project = (await api.get(f"/api/v1/projects?portfolio_id={portfolio['id']}")).json()
    key = project["items"][0]["key"]
    # one project: its portfolio and manager are loaders' futures, not preloaded
    ordinary(False)
    answered_plainly.clear()
    single = await api.gql(SINGLE, {"key": key})
    assert "errors" not in single, single
    assert "ProjectRow" not in answered_plainly
    ordinary(True)
    assert single == await api.gql(SINGLE, {"key": key})
    assert single["data"]["project"]["portfolio"] == {"key": portfolio["key"]}


async def test_an_error_inside_a_page_is_the_ordinary_executions(
    api: Api, ordinary: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    portfolio = await _portfolio_with_projects(api)
    from pmo_api.api.graphql.resources import ResourceTypes

    # a non-null field that comes back null: the ordinary execution's error, and the
    # null goes up to the nearest nullable place
    present = ResourceTypes.present

    def nameless(self: ResourceTypes, found: Any) -> Any:
        node = present(self, found)
        if self.kind.name == "project" and found["manager_id"] is None:
            node.name = None
        return node

    monkeypatch.setattr(ResourceTypes, "present", nameless)
    query = """query($pf: ID!) {
      projects(filter: {portfolioId: $pf}) { edges { node { key name manager { name } } } }
    }"""
    fast = await api.gql(query, {"pf": portfolio["id"]})
    assert fast["errors"][0]["path"][-1] == "name", fast
    ordinary(True)
    assert fast == await api.gql(query, {"pf": portfolio["id"]})


async def test_nothing_of_a_request_is_kept_after_it(api: Api) -> None:
    portfolio = await _portfolio_with_projects(api)
    for _ in range(3):
        assert "errors" not in await api.gql(PAGE, {"pf": portfolio["id"]})
    gc.collect()
    alive = [
        obj for obj in gc.get_objects() if isinstance(obj, execution.PlainDataExecutionContext)
    ]
    assert alive == []


WIDER = """
query Wider($id: ID!, $pf: ID!) {
  node(id: $id) { __typename id ... on Project { key manager { name } } }
  portfolios(first: 5, filter: {parentId: null}) {
    edges { cursor node { key projects(first: 2) { edges { node { key status } } } } }
  }
  projects(first: 3, filter: {portfolioId: $pf}) {
    nodes { key risks(first: 1) { nodes { title score } } portfolio { owner { name } } }
  }
}
"""


async def test_nested_connections_nodes_and_interfaces_answer_as_the_ordinary_execution(
    api: Api, ordinary: Any
) -> None:
    portfolio = await _portfolio_with_projects(api)
    listed = (await api.get(f"/api/v1/projects?portfolio_id={portfolio['id']}")).json()
    project = listed["items"][0]
    found = await api.gql(
        "query($k: String!) { project(idOrKey: $k) { id } }", {"k": project["key"]}
    )
    variables = {"id": found["data"]["project"]["id"], "pf": portfolio["id"]}
    fast = await api.gql(WIDER, variables)
    assert "errors" not in fast, fast
    assert fast["data"]["node"]["key"] == project["key"]
    assert len(fast["data"]["projects"]["nodes"]) == 3
    ordinary(True)
    assert fast == await api.gql(WIDER, variables)
