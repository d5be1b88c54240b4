"""The OpenAPI document states every limit the service enforces on a request.

Each test sends values through HTTP and checks that the published schema and the
service agree on every one: schema-valid is accepted, schema-invalid is refused (422).
A generated client or a fuzzer then never sends a "valid" value that gets refused.
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest

from pmo_api.core.schemas import TEXT_PATTERN, Patch
from pmo_api.db.repository import Repository
from tests.conftest import Api, new_key
from tests.test_rest_conventions import assert_problem

_documents: dict[int, dict[str, Any]] = {}


async def _openapi(api: Api) -> dict[str, Any]:
    """The document the running app serves (what clients and the fuzzer read)."""
    if id(api) not in _documents:
        response = await api.http.get("/openapi.json")
        assert response.status_code == 200
        _documents[id(api)] = response.json()
    return _documents[id(api)]


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    return jsonschema_rs.validator_for({**schema, "components": document["components"]})


def _component(document: dict[str, Any], name: str) -> Any:
    return _validator(document, {"$ref": f"#/components/schemas/{name}"})


async def _agrees(
    api: Api,
    component: str,
    path: str,
    body: dict[str, Any],
    *,
    code: str = "validation_failed",
) -> dict[str, Any] | None:
    """POST ``body``: accepted (201) exactly when the published schema calls it valid; a
    refusal is a 422 with ``code``. Returns the created record, or None."""
    valid = _component(await _openapi(api), component).is_valid(body)
    response = await api.post(path, json=body)
    if valid:
        assert response.status_code == 201, (body, response.text)
        return dict(response.json())
    assert_problem(response, 422, code)
    return None


# -- money ----------------------------------------------------------------------------------

MONEY_SAMPLES: list[Any] = [
    0,
    -0.0,
    0.01,
    12.5,
    100.0,
    999999999999.99,
    "1250.50",
    "0",
    "000000000001.5",
    "999999999999.99",
    # refused, and stated so
    "",
    " 12",
    "12 ",
    "1e2",
    "1_000",
    "+5",
    ".5",
    "5.",
    "12.345",
    "\u0661\u0662",
    "NaN",
    "-1",
    -0.01,
    -7.1e-226,
    7.1e-226,
    1.005,
    1000000000000,
    123456789012345,
    999999999999.999,
    True,
    None,
]


@pytest.mark.parametrize("value", MONEY_SAMPLES, ids=repr)
async def test_money_is_stated_exactly(api: Api, value: Any) -> None:
    portfolio = await api.make_portfolio()
    body = {"key": new_key(), "name": "Money", "portfolio_id": portfolio["id"]}
    created = await _agrees(
        api, "ProjectCreate", "/api/v1/projects", {**body, "planned_budget": value}
    )
    if created is not None:
        assert created["planned_budget"] == float(value)


SIGNED_SAMPLES: list[Any] = [-999999999999.99, -0.01, "-1250.50", "-0", 5, "-1e2", "--1", -1e12]


@pytest.mark.parametrize("value", SIGNED_SAMPLES, ids=repr)
async def test_signed_money_is_stated_exactly(api: Api, value: Any) -> None:
    project = await api.make_project()
    body = {"title": "Change", "budget_impact": value}
    path = f"/api/v1/projects/{project['id']}/changes"
    created = await _agrees(api, "ChangeCreate", path, body)
    if created is not None:
        assert created["budget_impact"] == float(value)


@pytest.mark.parametrize("value", [0, 0.0, -0.0, "0", "-0.00", "000.0", 0.01, "0.50"], ids=repr)
async def test_a_cost_amount_of_zero_is_stated(api: Api, value: Any) -> None:
    project = await api.make_project()
    body = {"incurred_on": "2027-01-04", "amount": value, "category": "other", "description": "d"}
    await _agrees(api, "CostCreate", f"/api/v1/projects/{project['id']}/costs", body)


# -- text -----------------------------------------------------------------------------------


def _string_schemas(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every free-text string schema inside ``schema`` (not enums, formats or consts)."""
    if isinstance(schema, list):
        for i, item in enumerate(schema):
            yield from _string_schemas(item, f"{where}[{i}]")
        return
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not {"enum", "format", "const"} & schema.keys():
        yield where, schema
    for key, value in schema.items():
        if key in ("not", "if"):  # what a value must not be, or only a condition
            continue
        yield from _string_schemas(value, f"{where}.{key}")


async def test_no_text_field_allows_nul_in_the_contract(api: Api) -> None:
    """The service refuses U+0000 in every text of a body or query (PostgreSQL cannot
    store it): every free-text string in a request schema says so."""
    document = await _openapi(api)
    inputs: dict[str, Any] = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] in ("query", "path"):
                    inputs[f"{method} {path} {parameter['name']}"] = parameter["schema"]
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                inputs[f"{method} {path} body"] = content["application/json"]["schema"]
    checked = 0
    for name, schema in inputs.items():
        resolved = [schema]
        if "$ref" in schema:
            resolved = [document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]]
        for where, text in _string_schemas(resolved, name):
            checked += 1
            assert not _validator(document, text).is_valid("a\x00b"), where
            if text.get("pattern") == TEXT_PATTERN and text.get("minLength", 0) <= 1:
                assert _validator(document, text).is_valid("a \u00e9\n\U0001f600"), where
    assert checked > 100  # the walk reached the bodies' fields


async def test_nul_in_the_trail_filters_is_refused(api: Api) -> None:
    for name in ("entity_type", "action", "request_id"):
        response = await api.get("/api/v1/audit-events", params={name: "a\x00"})
        assert_problem(response, 422, "validation_failed")


@pytest.mark.parametrize(
    ("email", "accepted"),
    [
        ("ada@example.com", True),
        ("\u00e9l\u00e8ve@example.fr", True),
        ("a\u0085b@example.com", False),  # a space to Python and Rust, not to ECMA-262
        ("a\ufeffb@example.com", False),  # a space to ECMA-262, not to Python and Rust
        ("a\u00a0b@example.com", False),
        ("a\x01b@example.com", False),
        ("a@example.com\n", False),
        ("a b@example.com", False),
    ],
    ids=repr,
)
async def test_email_pattern_means_the_same_to_service_and_contract(
    api: Api, email: str, accepted: bool
) -> None:
    unique = email.replace("@", f"{uuid.uuid4().hex[:8]}@", 1)
    created = await _agrees(api, "PersonCreate", "/api/v1/people", {"name": "P", "email": unique})
    assert (created is not None) == accepted


async def test_an_email_is_never_stored_longer_than_sent(api: Api) -> None:
    """U+0130 lowers to two characters: a 254-character address stayed 254 long on the
    way in and overflowed the column (a 500 on PostgreSQL)."""
    email = "\u0130" * 60 + uuid.uuid4().hex[:4] + "@" + "\u0130" * 185 + ".com"
    assert len(email) == 254
    created = await _agrees(api, "PersonCreate", "/api/v1/people", {"name": "I", "email": email})
    assert created is not None
    assert len(created["email"]) == 254
    assert created["email"].endswith(".com") and "\u0130" in created["email"]


@pytest.mark.parametrize(("length", "accepted"), [(100, True), (101, False)])
async def test_api_key_names_fit_their_column(api: Api, length: int, accepted: bool) -> None:
    """101 to 200 characters were accepted by the schema and overflowed the column."""
    created = await _agrees(
        api, "ApiKeyCreate", "/api/v1/api-keys", {"name": "k" * length, "role": "viewer"}
    )
    assert (created is not None) == accepted


# -- project attributes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "attributes",
    [
        {"cost_centre": "CC-1"},
        {"Bad Name": 1},
        {"ok": 1, "Not ok": 2},
        {"big": 2**63 - 1},
        {"bigger": 10**20},  # beyond 64 bits: taken as a number, not a 500
        {"smaller": -(2**63) - 1},
    ],
    ids=repr,
)
async def test_attribute_names_and_numbers_are_stated(api: Api, attributes: dict[str, Any]) -> None:
    portfolio = await api.make_portfolio()
    body = {
        "key": new_key(),
        "name": "A",
        "portfolio_id": portfolio["id"],
        "attributes": attributes,
    }
    created = await _agrees(api, "ProjectCreate", "/api/v1/projects", body)
    if created is not None:
        for name, value in attributes.items():
            assert created["attributes"][name] == pytest.approx(value)


# -- PATCH: omitted or null -----------------------------------------------------------------


def _patch_models() -> Iterator[type[Patch]]:
    pending: list[type[Patch]] = [Patch]
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        if model is not Patch:
            yield model


async def test_patch_fields_that_may_not_be_null_are_stated(api: Api) -> None:
    document = await _openapi(api)
    stated = 0
    for model in _patch_models():
        if model.__name__ not in document["components"]["schemas"]:
            continue
        validator = _component(document, model.__name__)
        for name in model.model_fields:
            may_be_null = name not in model.non_nullable
            assert validator.is_valid({name: None}) is may_be_null, (model.__name__, name)
            stated += 1
    assert stated > 50


async def test_a_null_for_a_non_nullable_patch_field_is_refused(api: Api) -> None:
    project = await api.make_project()
    for name in ("name", "status", "planned_budget", "attributes"):
        response = await api.patch(f"/api/v1/projects/{project['id']}", json={name: None})
        assert_problem(response, 422, "validation_failed")
    cleared = await api.patch(f"/api/v1/projects/{project['id']}", json={"description": None})
    assert cleared.status_code == 200


# -- rules between two values of one request ------------------------------------------------


async def test_conditional_requirements_are_stated(api: Api) -> None:
    person = api.people["manager"]["id"]
    keys = "/api/v1/api-keys"
    assert (
        await _agrees(
            api, "ApiKeyCreate", keys, {"name": "m", "role": "manager"}, code="manager_needs_person"
        )
        is None
    )
    assert await _agrees(
        api, "ApiKeyCreate", keys, {"name": "m", "role": "manager", "person_id": person}
    )

    project = await api.make_project()
    issues = f"/api/v1/projects/{project['id']}/issues"
    for status in ("resolved", "closed"):
        for missing in ({}, {"resolution": ""}):
            body = {"title": "I", "status": status, **missing}
            assert (
                await _agrees(api, "IssueCreate", issues, body, code="resolution_required") is None
            )
        assert await _agrees(
            api, "IssueCreate", issues, {"title": "I", "status": status, "resolution": "Fixed"}
        )
    assert await _agrees(api, "IssueCreate", issues, {"title": "I", "status": "open"})

    milestones = f"/api/v1/projects/{project['id']}/milestones"
    base = {"name": "M", "due_date": "2027-01-04"}
    for status in ({}, {"status": "planned"}, {"status": "in_progress"}):
        body = {**base, **status, "done_date": "2026-01-04"}
        assert (
            await _agrees(api, "MilestoneCreate", milestones, body, code="done_date_not_done")
            is None
        )
    done = {**base, "status": "done", "done_date": "2026-01-04"}
    assert await _agrees(api, "MilestoneCreate", milestones, done)


# -- sort -----------------------------------------------------------------------------------


def _repositories() -> Iterator[type[Repository[Any]]]:
    pending: list[type[Repository[Any]]] = [Repository]
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        if "sortable" in vars(model):
            yield model


def test_each_list_states_the_sort_fields_its_repository_sorts_by() -> None:
    """A filter's ``sort_fields`` (what the contract states) are its repository's."""
    pairs: list[tuple[Any, Any]] = []
    for repository in _repositories():
        kind = getattr(repository, "kind", None)
        if kind is not None:  # a declared type's: its filter is derived beside it
            pairs.append((kind.filter, repository.sortable))
            continue
        schemas = importlib.import_module(repository.__module__.rsplit(".", 1)[0] + ".schemas")
        filter_model = getattr(schemas, repository.__name__.replace("Repository", "Filter"))
        pairs.append((filter_model, repository.sortable))
    assert len(pairs) >= 14
    for filter_model, sortable in pairs:
        assert set(filter_model.sort_fields) == set(sortable), filter_model.__name__


async def test_every_stated_sort_is_accepted_and_no_other(api: Api) -> None:
    document = await _openapi(api)
    project = await api.make_project()
    audit = await api.post(
        "/api/v1/audits",
        json={
            "project_id": project["id"],
            "type": "health_check",
            "auditor_id": api.people["manager"]["id"],
            "planned_on": "2027-01-04",
        },
    )
    assert audit.status_code == 201, audit.text
    person = await api.make_person()
    refs = {
        "projects": project["id"],
        "portfolios": project["portfolio_id"],
        "people": person["id"],
        "audits": audit.json()["id"],
        "webhooks": (await api.make_webhook())["id"],
    }
    lists = 0
    for path, operations in document["paths"].items():
        parameters = operations.get("get", {}).get("parameters", [])
        sort = next((p for p in parameters if p["name"] == "sort"), None)
        if sort is None:
            continue
        (stated,) = [branch for branch in sort["schema"]["anyOf"] if branch.get("type") == "string"]
        assert stated["enum"], path
        if "{id}" in path:
            path = path.replace("{id}", refs[path.split("/")[3]])
        for value in stated["enum"]:
            ranked = value.lstrip("-") == "relevance"  # relevance to a search: needs q
            params = {"sort": value, "limit": 1, **({"q": "plan"} if ranked else {})}
            response = await api.get(path, params=params)
            assert response.status_code == 200, (path, value, response.text)
            if ranked:
                assert "relevance" in sort["description"] and "q" in sort["description"]
                alone = await api.get(path, params={"sort": value})
                assert_problem(alone, 422, "sort_needs_search")
        assert_problem(await api.get(path, params={"sort": "id"}), 422, "invalid_sort")
        assert_problem(await api.get(path, params={"sort": ""}), 422, "validation_failed")
        lists += 1
    assert lists >= 14


async def test_a_body_is_judged_by_the_published_schema_not_by_luck(api: Api) -> None:
    """Guard of the helpers above: a plainly valid and a plainly invalid body."""
    document = await _openapi(api)
    validator = _component(document, "PersonCreate")
    assert validator.is_valid({"name": "Ada", "email": "ada@example.com"})
    assert not validator.is_valid({"name": "Ada"})
    assert not validator.is_valid(json.loads('{"name": "", "email": "ada@example.com"}'))
