"""The OWASP API Security Top 10 (2023), item by item, through HTTP on both databases.

One class per item that applies; each asserts what the service does through REST and
through GraphQL. Narrower cases of the same rules live beside the features they guard
(test_rest_access, test_rest_input, test_rest_conventions, test_graphql*); this module
is the one place that shows every item is covered.

Not applicable yet, and why:

* API6 (unrestricted access to sensitive business flows): there is no flow yet whose
  automated, repeated use hurts the business by itself (no approvals, purchases,
  invitations or notifications). Gate approvals and webhooks will bring some: add their
  rate and abuse cases here when they land.
* API7 (server-side request forgery): the service makes no outbound request. Webhooks
  will (their target URLs are caller-supplied); API.md already requires private and
  loopback targets to be refused unless allowed by a setting; that test belongs here.
* API10 (unsafe consumption of APIs): the service consumes no third-party API.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from pmo_api.api.graphql.errors import MASKED_MESSAGE
from pmo_api.api.graphql.schema import schema as graphql_schema
from pmo_api.app import create_app
from pmo_api.auth.secrets import hash_secret
from pmo_api.contracts import contract_settings
from pmo_api.projects.declaration import ProjectRepository
from pmo_api.settings import Settings, SettingsError, load_settings
from tests.conftest import ADMIN_KEY, Api, new_key, start_api
from tests.test_rest_conventions import assert_problem


def policy_body() -> dict[str, Any]:
    return {
        "key": new_key("PO"),
        "title": "V",
        "rules": [
            {"code": "BASE", "title": "V", "check": {"type": "baseline_present", "params": {}}}
        ],
    }


def methodology_body() -> dict[str, Any]:
    return {
        "key": new_key("ME"),
        "name": "V",
        "phases": [{"name": "start"}, {"name": "end", "gate": {"approver_roles": ["sponsor"]}}],
    }


def template_body() -> dict[str, Any]:
    return {
        "key": new_key("TE"),
        "name": "V",
        "risks": [{"title": "V", "probability": 1, "impact": 1}],
    }


def lesson_body(project: dict[str, Any]) -> dict[str, Any]:
    return {
        "project_id": project["id"],
        "category": "planning",
        "title": "V",
        "what_happened": "V",
    }


def audit_body(project: dict[str, Any], person: dict[str, Any]) -> dict[str, Any]:
    return {
        "project_id": project["id"],
        "type": "health_check",
        "auditor_id": person["id"],
        "planned_on": "2027-01-04",
    }


async def started_audit(api: Api, project: dict[str, Any], person: dict[str, Any]) -> Any:
    """An audit in progress on the project, with one finding: (audit, finding)."""
    audit = (await api.post("/api/v1/audits", json=audit_body(project, person))).json()
    assert (await api.post(f"/api/v1/audits/{audit['id']}/start")).status_code == 200
    finding = await api.post(f"/api/v1/audits/{audit['id']}/findings", json={"description": "V"})
    assert finding.status_code == 201, finding.text
    return audit, finding.json()


async def training_records(api: Api, person: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A course, an enrollment in it and a certification, made by an admin."""
    course = (
        await api.post(
            "/api/v1/training/courses",
            json={"title": "V", "skill": "agile", "level": 2, "hours": 4},
        )
    ).json()
    enrollment = (
        await api.post(
            "/api/v1/training/enrollments",
            json={"person_id": person["id"], "course_id": course["id"]},
        )
    ).json()
    certification = (
        await api.post(f"/api/v1/people/{person['id']}/certifications", json={"name": "PMP"})
    ).json()
    return {"course": course, "enrollment": enrollment, "certification": certification}


def objective_body() -> dict[str, Any]:
    return {
        "key": new_key("OB"),
        "title": "V",
        "period_start": "2027-01-01",
        "period_end": "2027-12-31",
    }


OPENAPI = json.loads(
    (Path(__file__).parent.parent / "openapi" / "openapi.json").read_text(encoding="utf-8")
)
HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
DOCUMENTED: dict[str, set[str]] = {
    path: {m.upper() for m in item if m in HTTP_METHODS} for path, item in OPENAPI["paths"].items()
}
UNAUTHENTICATED_PATHS = {"/healthz", "/readyz"}
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
ROLES = ("admin", "pmo", "manager", "other_manager", "viewer")


def gid(type_name: str, row_id: str) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def concrete(template: str, row_id: str | None = None) -> str:
    return re.sub(r"\{[^}]+\}", row_id or str(uuid.uuid4()), template)


def _report(_: dict[str, Any]) -> dict[str, Any]:
    health = {f"{part}_health": "green" for part in ("overall", "schedule", "budget", "scope")}
    return {
        "period_start": "2026-11-01",
        "period_end": "2026-11-07",
        **health,
        "resources_health": "green",
        "summary": "V",
    }


CONTROL_BODIES: dict[str, tuple[Any, dict[str, Any] | None]] = {
    "risks": (lambda _: {"title": "V", "probability": 2, "impact": 3}, {"title": "W"}),
    "issues": (lambda _: {"title": "V"}, {"title": "W"}),
    "changes": (lambda _: {"title": "V", "budget_impact": 10}, {"title": "W"}),
    "milestones": (lambda _: {"name": "V", "due_date": "2027-01-01"}, {"name": "W"}),
    "deliverables": (lambda _: {"name": "V", "due_date": "2027-01-01"}, {"name": "W"}),
    "baselines": (lambda _: {"name": "V"}, None),
    "status-reports": (_report, {"summary": "W"}),
    "costs": (
        lambda _: {
            "incurred_on": "2026-11-01",
            "amount": 5,
            "category": "labour",
            "description": "V",
        },
        {"description": "W"},
    ),
    "assignments": (
        lambda person: {
            "person_id": person["id"],
            "role": "V",
            "allocation_percent": 10,
            "start_date": "2026-11-02",
            "end_date": "2026-11-30",
        },
        {"role": "W"},
    ),
    "assumptions": (lambda _: {"title": "V"}, {"title": "W"}),
}
"""Every project control record: a valid create body, and a patch (None: immutable)."""


async def control_records(
    api: Api, project: dict[str, Any], person: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """One record of each control type on the project, made by an admin."""
    made = {}
    for path, (create, _) in CONTROL_BODIES.items():
        response = await api.post(f"/api/v1/projects/{project['id']}/{path}", json=create(person))
        assert response.status_code == 201, (path, response.text)
        made[path] = response.json()
    return made


def gql_errors(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def gql_as(api: Api, query: str, variables: dict[str, Any], role: str) -> dict[str, Any]:
    return await api.gql(query, variables, role=role)


async def managed_project(api: Api, manager: str, portfolio_id: str | None = None) -> dict:  # type: ignore[type-arg]
    return await api.make_project(portfolio_id, manager_id=api.people[manager]["id"])


UPDATE_PROJECT = """mutation($id: ID!, $input: UpdateProjectInput!, $version: Int) {
    updateProject(id: $id, input: $input, expectedVersion: $version) {
    __typename ... on Error { code } ... on ProjectPayload { project { version } } } }"""
ARCHIVE_PROJECT = """mutation($id: ID!) { archiveProject(id: $id) {
    __typename ... on Error { code } } }"""


# =========================================================================================
# API1:2023 Broken object level authorization
# =========================================================================================


class TestAPI1ObjectLevelAuthorization:
    """Every role reads every project (by design: executives and the PMO watch the whole
    portfolio); a manager changes only the projects they manage, however the project is
    named (id, key, global id) and wherever its id or cursor came from."""

    async def test_rest_writes_to_another_managers_project_are_403(self, api: Api) -> None:
        other = await managed_project(api, "other_manager")
        path_by_id = f"/api/v1/projects/{other['id']}"
        before = await api.get(path_by_id)
        counts = await api.table_counts()
        attempts = [
            await api.patch(path_by_id, "manager", json={"percent_complete": 99}),
            await api.patch(f"/api/v1/projects/{other['key']}", "manager", json={"name": "Mine"}),
            # Knowing the current version changes nothing: the object rule comes first.
            await api.patch(
                path_by_id, "manager", json={"name": "Mine"}, headers={"If-Match": '"1"'}
            ),
            # Taking it over is no way in either.
            await api.patch(
                path_by_id, "manager", json={"manager_id": api.people["manager"]["id"]}
            ),
            await api.delete(path_by_id, "manager"),
            await api.delete(f"/api/v1/projects/{other['key']}", "manager"),
        ]
        for response in attempts:
            assert_problem(response, 403, "project_forbidden")
        assert await api.table_counts() == counts
        after = await api.get(path_by_id)
        assert after.json() == before.json()
        assert after.headers["etag"] == before.headers["etag"]
        # ...while their own project is theirs to change.
        own = await managed_project(api, "manager")
        ok = await api.patch(f"/api/v1/projects/{own['key']}", "manager", json={"name": "Mine"})
        assert ok.status_code == 200, ok.text

    async def test_graphql_mutations_on_another_managers_project_are_forbidden(
        self, api: Api
    ) -> None:
        other = await managed_project(api, "other_manager")
        counts = await api.table_counts()
        for ref in (gid("Project", other["id"]), other["id"], other["key"]):
            updated = await gql_as(
                api, UPDATE_PROJECT, {"id": ref, "input": {"name": "Mine"}}, "manager"
            )
            assert updated["data"]["updateProject"] == {
                "__typename": "ForbiddenError",
                "code": "project_forbidden",
            }
            archived = await gql_as(api, ARCHIVE_PROJECT, {"id": ref}, "manager")
            assert archived["data"]["archiveProject"] == {
                "__typename": "ForbiddenError",
                "code": "project_forbidden",
            }
        assert await api.table_counts() == counts
        assert (await api.get(f"/api/v1/projects/{other['id']}")).json() == other

    async def test_node_reads_are_open_to_every_role(self, api: Api) -> None:
        """By design (API.md: viewers are executives and scripts; every role reads every
        project): a global id harvested anywhere reads the same for every key."""
        other = await managed_project(api, "other_manager")
        global_id = gid("Project", other["id"])
        query = """query($id: ID!, $ids: [ID!]!) {
            node(id: $id) { id ... on Project { key manager { name } } }
            nodes(ids: $ids) { id } }"""
        for role in ROLES:
            body = await gql_as(api, query, {"id": global_id, "ids": [global_id]}, role)
            assert {"data": body["data"]} == {
                "data": {
                    "node": {
                        "id": global_id,
                        "key": other["key"],
                        "manager": {"name": "Other Manager"},
                    },
                    "nodes": [{"id": global_id}],
                }
            }, role
            assert (await api.get(f"/api/v1/projects/{other['key']}", role)).status_code == 200

    async def test_a_rest_cursor_harvested_from_another_key(self, api: Api) -> None:
        portfolio = await api.make_portfolio()
        for manager in ("other_manager", "manager", "other_manager", "manager"):
            await managed_project(api, manager, portfolio["id"])
        await api.make_project(portfolio["id"])
        params = {"portfolio_id": portfolio["id"], "limit": 2}
        admin_page = (await api.get("/api/v1/projects", params=params)).json()
        harvested = admin_page["next_cursor"]
        assert harvested

        # The cursor is a position, not a grant: the manager gets the rows they see
        # themselves after that position (the default order is by key), nothing else.
        through_harvest = await api.get(
            "/api/v1/projects", "manager", params={**params, "cursor": harvested}
        )
        assert through_harvest.status_code == 200, through_harvest.text
        everything = await api.get(
            "/api/v1/projects", "manager", params={"portfolio_id": portfolio["id"], "limit": 200}
        )
        position = admin_page["items"][-1]["key"]
        expected = [p for p in everything.json()["items"] if p["key"] > position][:2]
        assert through_harvest.json()["items"] == expected

        # Nor does it reach another collection.
        assert_problem(
            await api.get("/api/v1/people", "manager", params={"cursor": harvested}),
            422,
            "cursor_mismatch",
        )

        # And nothing harvested can be written through.
        counts = await api.table_counts()
        foreign = [
            p
            for p in admin_page["items"] + through_harvest.json()["items"]
            if p["manager_id"] != api.people["manager"]["id"]
        ]
        assert foreign
        for project in foreign:
            denied = await api.patch(
                f"/api/v1/projects/{project['id']}", "manager", json={"health": "red"}
            )
            assert_problem(denied, 403, "project_forbidden")
        assert await api.table_counts() == counts

    async def test_a_graphql_cursor_harvested_from_another_key(self, api: Api) -> None:
        portfolio = await api.make_portfolio()
        for manager in ("other_manager", "manager", "other_manager", "manager"):
            await managed_project(api, manager, portfolio["id"])
        page = """query($pf: ID, $after: String, $first: Int!) {
            projects(first: $first, after: $after, filter: {portfolioId: $pf}) {
            nodes { id key manager { uuid } } pageInfo { endCursor } } }"""
        variables = {"pf": portfolio["id"], "after": None, "first": 2}
        harvested = (await gql_as(api, page, variables, "admin"))["data"]["projects"]
        through_harvest = await gql_as(
            api, page, {**variables, "after": harvested["pageInfo"]["endCursor"]}, "manager"
        )
        assert "errors" not in through_harvest
        everything = await gql_as(api, page, {**variables, "first": 200}, "manager")
        position = harvested["nodes"][-1]["key"]
        expected = [n for n in everything["data"]["projects"]["nodes"] if n["key"] > position]
        assert through_harvest["data"]["projects"]["nodes"] == expected[:2]

        counts = await api.table_counts()
        nodes = harvested["nodes"] + through_harvest["data"]["projects"]["nodes"]
        foreign = [n for n in nodes if n["manager"]["uuid"] != api.people["manager"]["id"]]
        assert foreign
        for node in foreign:
            body = await gql_as(
                api, UPDATE_PROJECT, {"id": node["id"], "input": {"health": "RED"}}, "manager"
            )
            assert body["data"]["updateProject"]["__typename"] == "ForbiddenError"
        assert await api.table_counts() == counts


# =========================================================================================
# API2:2023 Broken authentication
# =========================================================================================


def _bad_credentials(revoked: str) -> list[tuple[str, dict[str, str], dict[str, str], str]]:
    """(what, headers, query parameters, expected code)."""
    return [
        ("no key", {}, {}, "missing_credentials"),
        ("empty header", {"Authorization": ""}, {}, "missing_credentials"),
        ("basic scheme", {"Authorization": "Basic YWRtaW46YWRtaW4="}, {}, "malformed_credentials"),
        ("bare key", {"Authorization": ADMIN_KEY}, {}, "malformed_credentials"),
        ("scheme only", {"Authorization": "Bearer"}, {}, "malformed_credentials"),
        ("other scheme", {"Authorization": f"Token {ADMIN_KEY}"}, {}, "malformed_credentials"),
        ("unknown key", {"Authorization": "Bearer pmo_" + "x" * 40}, {}, "invalid_credentials"),
        ("key and junk", {"Authorization": f"Bearer {ADMIN_KEY} x"}, {}, "invalid_credentials"),
        ("revoked key", {"Authorization": f"Bearer {revoked}"}, {}, "invalid_credentials"),
        ("key in query", {}, {"api_key": ADMIN_KEY}, "credentials_in_query"),
        ("token in query", {}, {"access_token": ADMIN_KEY}, "credentials_in_query"),
        (
            "key in query and header",
            {"Authorization": f"Bearer {ADMIN_KEY}"},
            {"token": ADMIN_KEY},
            "credentials_in_query",
        ),
    ]


DOORS: dict[str, Callable[[], tuple[str, str, dict[str, Any]]]] = {
    "rest read": lambda: ("GET", "/api/v1/projects", {}),
    "rest write": lambda: (
        "POST",
        "/api/v1/portfolios",
        {"json": {"key": new_key("AU"), "name": "Never written"}},
    ),
    "graphql get": lambda: ("GET", "/graphql", {"params": {"query": "{ viewer { name } }"}}),
    "graphql post": lambda: (
        "POST",
        "/graphql",
        {
            "json": {
                "query": 'mutation { createPortfolio(input: {key: "AU-1", name: "x"}) '
                "{ __typename } }"
            }
        },
    ),
}


class TestAPI2Authentication:
    """No valid key, no service: 401 problem+json with WWW-Authenticate: Bearer, before
    any parameter or body is looked at, and nothing written."""

    async def _revoked_key(self, api: Api) -> str:
        created = await api.post("/api/v1/api-keys", json={"name": "revoked", "role": "admin"})
        assert created.status_code == 201
        secret = str(created.json()["secret"])
        assert (await api.delete(f"/api/v1/api-keys/{created.json()['id']}")).status_code == 200
        return secret

    @pytest.mark.parametrize("door", list(DOORS))
    async def test_bad_credentials_are_401(self, api: Api, door: str) -> None:
        revoked = await self._revoked_key(api)
        counts = await api.table_counts()
        details: dict[str, set[str]] = {}
        for what, headers, params, code in _bad_credentials(revoked):
            method, path, kwargs = DOORS[door]()
            query = {**kwargs.pop("params", {}), **params}
            response = await api.http.request(method, path, headers=headers, params=query, **kwargs)
            body = assert_problem(response, 401, code)
            assert response.headers["www-authenticate"].startswith('Bearer realm="pmo-api"'), what
            assert response.headers["cache-control"] == "no-store"
            details.setdefault(code, set()).add(body["detail"])
        # An unknown key and a revoked one are indistinguishable.
        assert len(details["invalid_credentials"]) == 1
        assert await api.table_counts() == counts

    async def test_every_documented_operation_needs_a_key(self, api: Api) -> None:
        counts = await api.table_counts()
        for template, methods in DOCUMENTED.items():
            for method in methods:
                kwargs: dict[str, Any] = {"json": {}} if method in {"POST", "PATCH"} else {}
                response = await api.http.request(method, concrete(template), **kwargs)
                if template in UNAUTHENTICATED_PATHS:
                    assert response.status_code in (200, 503), (method, template)
                    continue
                assert_problem(response, 401, "missing_credentials")
                assert response.headers["www-authenticate"].startswith("Bearer")
        assert await api.table_counts() == counts

    async def test_a_valid_key_is_required_before_the_body_is_judged(self, api: Api) -> None:
        invalid_body = {"key": "not a key", "name": 1, "unknown": True}
        response = await api.http.post("/api/v1/projects", json=invalid_body)
        assert_problem(response, 401, "missing_credentials")
        response = await api.http.post(
            "/graphql", json={"query": "{ this is not graphql"}, headers={"Authorization": "x"}
        )
        assert_problem(response, 401, "malformed_credentials")


# =========================================================================================
# API3:2023 Broken object property level authorization
# =========================================================================================

SERVER_OWNED: dict[str, Any] = {
    "id": "00000000-0000-4000-8000-000000000000",
    "version": 5,
    "created_at": "2020-01-01T00:00:00Z",
    "updated_at": "2020-01-01T00:00:00Z",
    "actual_cost": 5,
    "archived_at": "2020-01-01T00:00:00Z",
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class TestAPI3PropertyLevelAuthorization:
    """Server-owned fields cannot be written (mass assignment), fields a role may not
    change are refused, and no response carries a secret."""

    async def _valid_bodies(self, api: Api) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
        """resource path -> (a valid POST body, an existing record)."""
        portfolio = await api.make_portfolio()
        return {
            "/api/v1/people": (
                {"name": "Mass", "email": f"{uuid.uuid4().hex[:10]}@example.com"},
                await api.make_person(),
            ),
            "/api/v1/portfolios": ({"key": new_key("MA"), "name": "Mass"}, portfolio),
            "/api/v1/projects": (
                {"key": new_key("MA"), "name": "Mass", "portfolio_id": portfolio["id"]},
                await api.make_project(portfolio["id"]),
            ),
        }

    @pytest.mark.parametrize("method", ["POST", "PATCH"])
    async def test_server_owned_fields_are_refused_over_rest(self, api: Api, method: str) -> None:
        for collection, (body, record) in (await self._valid_bodies(api)).items():
            path = collection if method == "POST" else f"{collection}/{record['id']}"
            valid = body if method == "POST" else {"name": "Renamed"}
            before = await api.get(f"{collection}/{record['id']}")
            counts = await api.table_counts()
            for field, value in SERVER_OWNED.items():
                response = await api.request(method, path, json={**valid, field: value})
                problem = assert_problem(response, 422, "validation_failed")
                assert ["body", field] in [e["loc"] for e in problem["errors"]], (path, field)
            assert await api.table_counts() == counts
            after = await api.get(f"{collection}/{record['id']}")
            assert (after.json(), after.headers["etag"]) == (
                before.json(),
                before.headers["etag"],
            )

    async def test_server_owned_fields_are_refused_over_graphql(self, api: Api) -> None:
        bodies = await self._valid_bodies(api)
        person, portfolio, project = (bodies[p][1] for p in bodies)
        cases = [
            ("createPerson", "CreatePersonInput", None, {"name": "M", "email": "m@example.com"}),
            ("updatePerson", "UpdatePersonInput", person["id"], {"name": "M"}),
            ("createPortfolio", "CreatePortfolioInput", None, {"key": new_key(), "name": "M"}),
            ("updatePortfolio", "UpdatePortfolioInput", portfolio["id"], {"name": "M"}),
            (
                "createProject",
                "CreateProjectInput",
                None,
                {"key": new_key(), "name": "M", "portfolioId": portfolio["id"]},
            ),
            ("updateProject", "UpdateProjectInput", project["id"], {"name": "M"}),
        ]
        counts = await api.table_counts()
        for mutation, input_type, row_id, valid in cases:
            arguments = "input: $input" if row_id is None else f'id: "{row_id}", input: $input'
            query = f"""mutation($input: {input_type}!) {{
                {mutation}({arguments}) {{ __typename }} }}"""
            for field, value in SERVER_OWNED.items():
                name = _camel(field)
                body = await api.gql(query, {"input": {**valid, name: value}})
                assert body["data"] is None, (mutation, field)
                assert gql_errors(body) == ["invalid_query"]
                assert f"'{name}'" in body["errors"][0]["message"]
        assert await api.table_counts() == counts
        for collection, (_, record) in bodies.items():
            assert (await api.get(f"{collection}/{record['id']}")).json() == record

    async def test_a_manager_cannot_change_who_manages_their_project(self, api: Api) -> None:
        own = await managed_project(api, "manager")
        counts = await api.table_counts()
        handover = {"manager_id": api.people["other_manager"]["id"]}
        response = await api.patch(f"/api/v1/projects/{own['id']}", "manager", json=handover)
        assert_problem(response, 403, "manager_reassign_forbidden")
        body = await gql_as(
            api,
            UPDATE_PROJECT,
            {"id": own["key"], "input": {"managerId": api.people["other_manager"]["id"]}},
            "manager",
        )
        assert body["data"]["updateProject"] == {
            "__typename": "ForbiddenError",
            "code": "manager_reassign_forbidden",
        }
        assert await api.table_counts() == counts

    async def test_responses_never_carry_secrets(self, api: Api) -> None:
        created = await api.post("/api/v1/api-keys", json={"name": "fresh", "role": "viewer"})
        assert created.status_code == 201
        fresh = created.json()
        secrets = {**api.keys, "fresh": fresh["secret"]}
        forbidden = set(secrets.values()) | {hash_secret(s) for s in secrets.values()}

        def assert_clean(response: httpx.Response, own_secret: str | None = None) -> None:
            text = response.text
            assert "secret_hash" not in text and "secretHash" not in text
            for value in forbidden - {own_secret}:
                assert value not in text, response.request.url

        # The creating response shows its own secret, once, and nothing else secret.
        assert_clean(created, own_secret=fresh["secret"])
        # Newest first: the fresh key is on the first page, however many keys exist.
        listed = await api.get("/api/v1/api-keys", params={"sort": "-created_at"})
        assert_clean(listed)
        read_fields = {
            "id",
            "name",
            "role",
            "prefix",
            "person_id",
            "created_at",
            "updated_at",
            "revoked_at",
        }
        assert all(set(item) == read_fields for item in listed.json()["items"])
        items = listed.json()["items"]
        prefix = {item["id"]: item["prefix"] for item in items}
        assert prefix[fresh["id"]] == fresh["secret"][:12]  # 8 of its 40 random characters
        # The bootstrap secret is chosen by a person (16 characters at least): its listed
        # prefix shows no more than 4 of them. It is the oldest key: first by default.
        oldest = await api.get("/api/v1/api-keys", params={"limit": 1})
        assert_clean(oldest)
        bootstrap = oldest.json()["items"][0]
        assert bootstrap["name"] == "bootstrap admin"
        assert len(bootstrap["prefix"]) <= 4 and ADMIN_KEY.startswith(bootstrap["prefix"])

        for role in ROLES:
            assert_clean(await api.get("/api/v1", role))
            assert_clean(
                await api.get("/api/v1/audit-events", role, params={"entity_type": "api_key"})
            )
            trail = await api.post(
                "/graphql",
                role,
                json={
                    "query": """{ viewer { name role keyId }
                    auditEvents(first: 200, filter: {entityType: "api_key"}) {
                    nodes { changes entity { __typename } } } }"""
                },
            )
            assert trail.status_code == 200 and "errors" not in trail.json()
            assert_clean(trail)
        assert_clean(await api.delete(f"/api/v1/api-keys/{fresh['id']}"))
        assert_clean(await api.http.get("/openapi.json"))
        assert "secret" not in str(graphql_schema).lower()


# =========================================================================================
# API4:2023 Unrestricted resource consumption
# =========================================================================================

CHUNK = 65_536


def _streamed(chunks: int, pulled: list[int], opening: bytes = b'{"name": "') -> Any:
    """A JSON body streamed in 64 KiB chunks; ``pulled[0]`` counts those the server read."""

    async def body() -> AsyncIterator[bytes]:
        yield opening
        for _ in range(chunks):
            pulled[0] += 1
            yield b"x" * CHUNK
        yield b'"}'

    return body()


def _spy(monkeypatch: pytest.MonkeyPatch, target: str) -> list[int]:
    """Count calls to a service function while still running it."""
    module_name, name = target.rsplit(".", 1)
    module = __import__(module_name, fromlist=[name])
    original = getattr(module, name)
    calls: list[int] = []

    async def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return await original(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


class TestAPI4ResourceConsumption:
    """Every size a caller chooses has a limit, enforced before the work it would cost."""

    async def test_page_sizes_are_capped_on_every_list(self, api: Api) -> None:
        lists = [
            path
            for path, item in OPENAPI["paths"].items()
            if any(p["name"] == "limit" for p in item.get("get", {}).get("parameters", []))
        ]
        assert "/api/v1/projects" in lists and "/api/v1/audit-events" in lists
        project = await api.make_project()
        person = await api.make_person()
        audit, _ = await started_audit(api, project, person)
        webhook = await api.make_webhook()
        for template in lists:
            owner = project["id"] if template.startswith("/api/v1/projects/") else None
            if template.startswith("/api/v1/audits/"):
                owner = audit["id"]
            if template.startswith("/api/v1/people/"):
                owner = person["id"]
            if template.startswith("/api/v1/webhooks/"):
                owner = webhook["id"]
            path = concrete(template, owner or project["portfolio_id"])
            for limit in ("100000", "201", "0"):
                problem = assert_problem(await api.get(path, params={"limit": limit}), 422)
                assert problem["errors"][0]["loc"] == ["query", "limit"], path
            assert (await api.get(path, params={"limit": "200"})).status_code == 200
        for connection in ("projects", "portfolios", "people", "auditEvents"):
            body = await api.gql(f"{{ {connection}(first: 100000) {{ nodes {{ id }} }} }}")
            assert body["data"] is None
            assert gql_errors(body) == ["invalid_page_arguments"]
        for nested in ("risks", "issues", "changes", "milestones", "deliverables", "baselines",
                       "statusReports", "costs", "assignments"):  # fmt: skip
            page = f"{nested}(first: 100000) {{ nodes {{ id }} }}"
            body = await api.gql(f'{{ project(idOrKey: "{project["id"]}") {{ {page} }} }}')
            assert body["data"] == {"project": None}, nested
            assert gql_errors(body) == ["invalid_page_arguments"]

    @pytest.mark.parametrize("path", ["/api/v1/portfolios", "/graphql"])
    async def test_a_body_over_the_limit_is_refused_unread(self, api: Api, path: str) -> None:
        limit = api.app.state.pmo.settings.max_body_bytes
        chunks = 1600  # 100 MiB
        counts = await api.table_counts()
        # Declared too large: refused before a byte is read.
        pulled = [0]
        declared = await api.post(
            path,
            content=_streamed(chunks, pulled),
            headers={
                "Content-Type": "application/json",
                "Content-Length": str(chunks * CHUNK + 14),
            },
        )
        assert_problem(declared, 413, "body_too_large")
        assert pulled[0] == 0
        # Streamed without a length: refused as soon as the limit is passed.
        pulled = [0]
        streamed = await api.post(
            path, content=_streamed(chunks, pulled), headers={"Content-Type": "application/json"}
        )
        assert_problem(streamed, 413, "body_too_large")
        assert pulled[0] <= limit // CHUNK + 1
        assert await api.table_counts() == counts

    async def test_huge_strings_are_refused(self, api: Api) -> None:
        counts = await api.table_counts()
        megabyte = "x" * 1_000_000  # the body stays under the 1 MiB limit: refused as invalid
        problem = assert_problem(
            await api.post("/api/v1/portfolios", json={"key": new_key(), "name": megabyte}), 422
        )
        assert problem["errors"][0]["loc"] == ["body", "name"]
        assert len(json.dumps(problem)) < 2000  # the refusal does not echo the input back
        project = await api.make_project()
        counts = await api.table_counts()
        problem = assert_problem(
            await api.patch(f"/api/v1/projects/{project['id']}", json={"description": megabyte}),
            422,
        )
        assert problem["errors"][0]["loc"] == ["body", "description"]
        two_megabytes = "x" * 2_000_000
        assert_problem(
            await api.post("/api/v1/portfolios", json={"key": new_key(), "name": two_megabytes}),
            413,
            "body_too_large",
        )
        assert_problem(
            await api.get("/api/v1/projects", params={"q": "x" * 10_000}), 422, "validation_failed"
        )
        body = await api.gql(
            """mutation($input: CreatePortfolioInput!) { createPortfolio(input: $input) {
               __typename ... on ValidationError { errors { loc } } } }""",
            {"input": {"key": new_key(), "name": megabyte}},
        )
        assert body["data"]["createPortfolio"] == {
            "__typename": "ValidationError",
            "errors": [{"loc": ["input", "name"]}],
        }
        assert len(json.dumps(body)) < 2000
        assert await api.table_counts() == counts

    async def test_arrays_over_their_limits_are_refused(self, api: Api) -> None:
        counts = await api.table_counts()
        skills = [{"skill": f"skill-{i}", "level": 3} for i in range(51)]
        person = {"name": "Many", "email": f"{uuid.uuid4().hex[:10]}@example.com"}
        problem = assert_problem(
            await api.post("/api/v1/people", json={**person, "skills": skills}), 422
        )
        assert problem["errors"][0]["loc"] == ["body", "skills"]
        portfolio = await api.make_portfolio()
        counts = await api.table_counts()
        attributes = {f"a{i}": i for i in range(51)}
        assert_problem(
            await api.post(
                "/api/v1/projects",
                json={
                    "key": new_key(),
                    "name": "Many",
                    "portfolio_id": portfolio["id"],
                    "attributes": attributes,
                },
            ),
            422,
        )
        statuses = ["active", "proposed", "on_hold", "completed", "cancelled", "active"]
        problem = assert_problem(
            await api.get("/api/v1/projects", params={"status": statuses}), 422
        )
        assert problem["errors"][0]["loc"] == ["query", "status"]
        assert_problem(await api.get("/api/v1/projects", params={"cursor": "c" * 2000}), 422)

        created = await api.gql(
            """mutation($input: CreatePersonInput!) { createPerson(input: $input) {
               __typename ... on ValidationError { errors { loc } } } }""",
            {"input": {**person, "skills": skills}},
        )
        assert created["data"]["createPerson"] == {
            "__typename": "ValidationError",
            "errors": [{"loc": ["input", "skills"]}],
        }
        listed = await api.gql(
            "{ projects(filter: {status: [ACTIVE, PROPOSED, ON_HOLD, COMPLETED, CANCELLED, "
            "ACTIVE]}) { nodes { key } } }"
        )
        assert gql_errors(listed) == ["validation_failed"]
        many = await api.gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            {"ids": [gid("Project", str(uuid.uuid4())) for _ in range(101)]},
        )
        assert gql_errors(many) == ["too_many_ids"]
        assert await api.table_counts() == counts

    async def test_deep_graphql_is_refused_unexecuted(
        self, api: Api, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        calls = _spy(monkeypatch, "pmo_api.resources.service.read_list")
        max_depth = api.app.state.pmo.settings.graphql_max_depth

        def deep(parents: int) -> str:
            inner = "key"
            for _ in range(parents):
                inner = f"parent {{ {inner} }}"
            # projects (0) > nodes (1) > portfolio (2) > parent... > key
            return f"{{ projects(first: 1) {{ nodes {{ portfolio {{ {inner} }} }} }} }}"

        assert "errors" not in await api.gql(deep(max_depth - 3))
        assert calls == [1]
        refused = await api.gql(deep(max_depth - 2))
        assert refused["data"] is None
        assert refused["errors"][0]["message"] == (
            f"'anonymous' exceeds maximum operation depth of {max_depth}"
        )
        assert gql_errors(refused) == ["invalid_query"]
        # Depth is counted through fragments too.
        fragments = "fragment F0 on Portfolio { key }\n" + "\n".join(
            f"fragment F{i} on Portfolio {{ parent {{ ...F{i - 1} }} }}"
            for i in range(1, max_depth)
        )
        hidden = await api.gql(
            f"{{ projects(first: 1) {{ nodes {{ portfolio {{ ...F{max_depth - 1} }} }} }} }}\n"
            + fragments
        )
        assert gql_errors(hidden) == ["invalid_query"]
        assert calls == [1]  # neither refused query ran

    async def test_wide_graphql_is_refused_unexecuted(
        self, api: Api, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        calls = _spy(monkeypatch, "pmo_api.resources.service.read_list")
        max_aliases = api.app.state.pmo.settings.graphql_max_aliases
        wide = " ".join(
            f"a{i}: projects(first: 200) {{ nodes {{ key }} }}" for i in range(max_aliases + 1)
        )
        refused = await api.gql(f"{{ {wide} }}")
        assert refused["data"] is None
        assert refused["errors"][0]["message"] == (
            f"{max_aliases + 1} aliases found. Allowed: {max_aliases}"
        )
        nested = " ".join(f"k{i}: key" for i in range(max_aliases + 1))
        assert gql_errors(await api.gql(f"{{ projects {{ nodes {{ {nested} }} }} }}")) == [
            "invalid_query"
        ]
        batch = await api.post("/graphql", json=[{"query": "{ projects { nodes { key } } }"}] * 50)
        assert_problem(batch, 400, "bad_request")
        assert calls == []

    async def test_huge_graphql_is_refused_unexecuted(
        self, api: Api, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        calls = _spy(monkeypatch, "pmo_api.resources.service.read_list")
        max_tokens = api.app.state.pmo.settings.graphql_max_tokens
        fields = " ".join("key" for _ in range(max_tokens))
        refused = await api.gql(f"{{ projects(first: 1) {{ nodes {{ {fields} }} }} }}")
        assert refused["data"] is None
        assert refused["errors"][0]["message"] == (
            f"Syntax Error: Document contains more than {max_tokens} tokens. Parsing aborted."
        )
        assert gql_errors(refused) == ["invalid_query"]
        assert calls == []


# =========================================================================================
# API5:2023 Broken function level authorization
# =========================================================================================


class TestAPI5FunctionLevelAuthorization:
    """Roles gate operations before objects: keys are for admins, writes for writers;
    and a method the API does not document is a 405 that says what is allowed."""

    @pytest.mark.parametrize("role", ["pmo", "manager", "viewer"])
    async def test_only_admins_manage_api_keys(self, api: Api, role: str) -> None:
        target = await api.post("/api/v1/api-keys", json={"name": "target", "role": "viewer"})
        assert target.status_code == 201
        target_auth = {"Authorization": f"Bearer {target.json()['secret']}"}
        counts = await api.table_counts()
        attempts = [
            await api.get("/api/v1/api-keys", role),
            await api.post("/api/v1/api-keys", role, json={"name": "escalate", "role": "admin"}),
            await api.delete(f"/api/v1/api-keys/{target.json()['id']}", role),
            # Nor may they find out which keys exist by probing ids.
            await api.delete(f"/api/v1/api-keys/{uuid.uuid4()}", role),
        ]
        for response in attempts:
            assert_problem(response, 403, "role_forbidden")
        assert await api.table_counts() == counts
        assert (await api.http.get("/api/v1/projects", headers=target_auth)).status_code == 200

    async def test_a_viewer_writes_nothing_over_rest(self, api: Api) -> None:
        portfolio = await api.make_portfolio()
        empty = await api.make_portfolio()
        project = await api.make_project(portfolio["id"])
        person = await api.make_person()
        key = (await api.post("/api/v1/api-keys", json={"name": "k", "role": "viewer"})).json()
        objective = (await api.post("/api/v1/objectives", json=objective_body())).json()
        policy = (await api.post("/api/v1/standards/policies", json=policy_body())).json()
        methodology = (
            await api.post("/api/v1/standards/methodologies", json=methodology_body())
        ).json()
        template = (await api.post("/api/v1/standards/templates", json=template_body())).json()
        lesson = (await api.post("/api/v1/lessons", json=lesson_body(project))).json()
        audit, finding = await started_audit(api, project, person)
        records = await control_records(api, project, person)
        training = await training_records(api, person)
        enrollment = training["enrollment"]["id"]
        aligned = await api.post(
            f"/api/v1/projects/{project['id']}/alignments",
            json={"objective_id": objective["id"], "contribution": 1},
        )
        assert aligned.status_code == 201, aligned.text
        ids = {
            "/api/v1/alignments/{id}": aligned.json()["id"],
            "/api/v1/projects/{id}/alignments": project["id"],
            "/api/v1/training/courses/{id}": training["course"]["id"],
            "/api/v1/training/enrollments/{id}": enrollment,
            "/api/v1/training/enrollments/{id}/start": enrollment,
            "/api/v1/training/enrollments/{id}/complete": enrollment,
            "/api/v1/training/enrollments/{id}/withdraw": enrollment,
            "/api/v1/certifications/{id}": training["certification"]["id"],
            "/api/v1/people/{id}/certifications": person["id"],
            "/api/v1/lessons/{id}": lesson["id"],
            **{
                f"/api/v1/audits/{{id}}{tail}": audit["id"]
                for tail in ("", "/start", "/answer", "/complete", "/findings")
            },
            "/api/v1/audits/{id}/findings/from-compliance": audit["id"],
            **{
                f"/api/v1/findings/{{id}}{tail}": finding["id"]
                for tail in ("", "/remediate", "/resolve", "/accept")
            },
            "/api/v1/standards/templates/{id}": template["id"],
            "/api/v1/standards/templates/{id}/publish": template["id"],
            "/api/v1/standards/templates/{id}/retire": template["id"],
            "/api/v1/standards/policies/{id}": policy["id"],
            "/api/v1/standards/policies/{id}/publish": policy["id"],
            "/api/v1/standards/policies/{id}/retire": policy["id"],
            "/api/v1/standards/methodologies/{id}": methodology["id"],
            "/api/v1/standards/methodologies/{id}/publish": methodology["id"],
            "/api/v1/standards/methodologies/{id}/retire": methodology["id"],
            "/api/v1/projects/{id}/transitions": project["id"],
            "/api/v1/projects/{id}/gate-reviews": project["id"],
            "/api/v1/people/{id}": person["id"],
            "/api/v1/portfolios/{id}": empty["id"],
            "/api/v1/projects/{id}": project["id"],
            "/api/v1/api-keys/{id}": key["id"],
            "/api/v1/objectives/{id}": objective["id"],
            **{f"/api/v1/{path}/{{id}}": record["id"] for path, record in records.items()},
            **{f"/api/v1/projects/{{id}}/{path}": project["id"] for path in records},
        }
        ids["/api/v1/changes/{id}/approve"] = ids["/api/v1/changes/{id}/reject"] = records[
            "changes"
        ]["id"]
        ids["/api/v1/status-reports/{id}/submit"] = records["status-reports"]["id"]
        bodies: dict[tuple[str, str], dict[str, Any] | None] = {
            ("POST", "/api/v1/api-keys"): {"name": "escalate", "role": "admin"},
            ("DELETE", "/api/v1/api-keys/{id}"): None,
            ("POST", "/api/v1/people"): {"name": "V", "email": "viewer-write@example.com"},
            ("PATCH", "/api/v1/people/{id}"): {"title": "V"},
            ("DELETE", "/api/v1/people/{id}"): None,
            ("POST", "/api/v1/portfolios"): {"key": new_key(), "name": "V"},
            ("PATCH", "/api/v1/portfolios/{id}"): {"name": "V"},
            ("DELETE", "/api/v1/portfolios/{id}"): None,
            ("POST", "/api/v1/projects"): {
                "key": new_key(),
                "name": "V",
                "portfolio_id": portfolio["id"],
            },
            ("PATCH", "/api/v1/projects/{id}"): {"name": "V"},
            ("DELETE", "/api/v1/projects/{id}"): None,
            ("POST", "/api/v1/changes/{id}/approve"): None,
            ("POST", "/api/v1/changes/{id}/reject"): None,
            ("POST", "/api/v1/status-reports/{id}/submit"): None,
            ("POST", "/api/v1/objectives"): objective_body(),
            ("PATCH", "/api/v1/objectives/{id}"): {"weight": 5},
            ("DELETE", "/api/v1/objectives/{id}"): None,
            ("POST", "/api/v1/standards/policies"): policy_body(),
            ("PATCH", "/api/v1/standards/policies/{id}"): {"title": "V"},
            ("DELETE", "/api/v1/standards/policies/{id}"): None,
            ("POST", "/api/v1/standards/policies/{id}/publish"): None,
            ("POST", "/api/v1/standards/policies/{id}/retire"): None,
            ("PUT", "/api/v1/standards/policies/{id}"): {
                k: v for k, v in policy_body().items() if k != "key"
            },
            ("POST", "/api/v1/standards/methodologies"): methodology_body(),
            ("PATCH", "/api/v1/standards/methodologies/{id}"): {"name": "W"},
            ("DELETE", "/api/v1/standards/methodologies/{id}"): None,
            ("POST", "/api/v1/standards/methodologies/{id}/publish"): None,
            ("POST", "/api/v1/standards/methodologies/{id}/retire"): None,
            ("PUT", "/api/v1/standards/methodologies/{id}"): {
                k: v for k, v in methodology_body().items() if k != "key"
            },
            ("POST", "/api/v1/lessons"): lesson_body(project),
            ("PATCH", "/api/v1/lessons/{id}"): {"title": "W"},
            ("DELETE", "/api/v1/lessons/{id}"): None,
            ("POST", "/api/v1/projects/{id}/alignments"): {
                "objective_id": objective["id"],
                "contribution": 2,
            },
            ("PATCH", "/api/v1/alignments/{id}"): {"contribution": 2},
            ("DELETE", "/api/v1/alignments/{id}"): None,
            ("POST", "/api/v1/audits"): audit_body(project, person),
            ("PATCH", "/api/v1/audits/{id}"): {"scope": "W"},
            ("DELETE", "/api/v1/audits/{id}"): None,
            ("POST", "/api/v1/audits/{id}/start"): None,
            ("POST", "/api/v1/audits/{id}/answer"): {
                "answers": [{"item": "x", "answer": "conforms"}]
            },
            ("POST", "/api/v1/audits/{id}/complete"): {},
            ("POST", "/api/v1/audits/{id}/findings"): {"description": "W"},
            ("POST", "/api/v1/audits/{id}/findings/from-compliance"): {},
            ("PATCH", "/api/v1/findings/{id}"): {"remediation": "W"},
            ("DELETE", "/api/v1/findings/{id}"): None,
            ("POST", "/api/v1/findings/{id}/remediate"): {},
            ("POST", "/api/v1/findings/{id}/resolve"): {},
            ("POST", "/api/v1/findings/{id}/accept"): {"note": "W"},
            ("POST", "/api/v1/standards/templates"): template_body(),
            ("PATCH", "/api/v1/standards/templates/{id}"): {"name": "W"},
            ("DELETE", "/api/v1/standards/templates/{id}"): None,
            ("POST", "/api/v1/standards/templates/{id}/publish"): None,
            ("POST", "/api/v1/standards/templates/{id}/retire"): None,
            ("PUT", "/api/v1/standards/templates/{id}"): {
                k: v for k, v in template_body().items() if k != "key"
            },
            ("POST", "/api/v1/training/courses"): {
                "title": "V",
                "skill": "agile",
                "level": 1,
                "hours": 1,
            },
            ("PATCH", "/api/v1/training/courses/{id}"): {"hours": 2},
            ("DELETE", "/api/v1/training/courses/{id}"): None,
            ("POST", "/api/v1/training/enrollments"): {
                "person_id": person["id"],
                "course_id": training["course"]["id"],
            },
            ("PATCH", "/api/v1/training/enrollments/{id}"): {"score": 5},
            ("DELETE", "/api/v1/training/enrollments/{id}"): None,
            ("POST", "/api/v1/training/enrollments/{id}/start"): None,
            ("POST", "/api/v1/training/enrollments/{id}/complete"): {"score": 50},
            ("POST", "/api/v1/training/enrollments/{id}/withdraw"): None,
            ("POST", "/api/v1/people/{id}/certifications"): {"name": "V"},
            ("PATCH", "/api/v1/certifications/{id}"): {"issuer": "V"},
            ("DELETE", "/api/v1/certifications/{id}"): None,
            ("POST", "/api/v1/projects/{id}/transitions"): {"to_phase": "end"},
            ("POST", "/api/v1/projects/{id}/gate-reviews"): {
                "phase": "end",
                "role": "sponsor",
                "decision": "go",
            },
        }
        bodies |= {
            ("POST", "/api/v1/webhooks"): {"url": "https://x.example/h", "event_types": ["*"]},
            ("PATCH", "/api/v1/webhooks/{id}"): {"active": False},
            ("DELETE", "/api/v1/webhooks/{id}"): None,
            ("POST", "/api/v1/webhooks/{id}/ping"): None,
            ("POST", "/api/v1/webhooks/{id}/redeliver"): {"since": "2026-01-01T00:00:00Z"},
            ("POST", "/api/v1/webhooks/{id}/rotate-secret"): None,
            ("POST", "/api/v1/webhook-deliveries/{id}/redeliver"): None,
        }
        for path, (create, patch) in CONTROL_BODIES.items():
            bodies[("POST", f"/api/v1/projects/{{id}}/{path}")] = create(person)
            if patch is not None:
                bodies[("PATCH", f"/api/v1/{path}/{{id}}")] = patch
                bodies[("DELETE", f"/api/v1/{path}/{{id}}")] = None
        documented_writes = {
            (method, path)
            for path, methods in DOCUMENTED.items()
            for method in methods & WRITE_METHODS
        }
        assert set(bodies) == documented_writes, "a new write operation: add it here"
        counts = await api.table_counts()
        for (method, template_path), body in bodies.items():
            path = concrete(template_path, ids.get(template_path))
            if method == "PUT":  # a standard's document is put under its key
                standard = {"methodologies": methodology, "templates": template}.get(
                    template_path.split("/")[4], policy
                )
                path = concrete(template_path, standard["key"])
            kwargs = {"json": body} if body is not None else {}
            response = await api.request(method, path, "viewer", **kwargs)
            assert_problem(response, 403)
        assert await api.table_counts() == counts

    async def test_a_viewer_writes_nothing_over_graphql(self, api: Api) -> None:
        portfolio = await api.make_portfolio()
        empty = await api.make_portfolio()
        project = await api.make_project(portfolio["id"])
        person = await api.make_person()
        records = await control_records(api, project, person)

        def on(path: str) -> str:
            return f'id: "{records[path]["id"]}"'

        in_project = f'projectId: "{project["id"]}"'
        objective = (await api.post("/api/v1/objectives", json=objective_body())).json()
        policy = (await api.post("/api/v1/standards/policies", json=policy_body())).json()
        on_policy = f'id: "{policy["id"]}"'
        methodology = (
            await api.post("/api/v1/standards/methodologies", json=methodology_body())
        ).json()
        on_methodology = f'id: "{methodology["id"]}"'
        template = (await api.post("/api/v1/standards/templates", json=template_body())).json()
        on_template = f'id: "{template["id"]}"'
        lesson = (await api.post("/api/v1/lessons", json=lesson_body(project))).json()
        audit, finding = await started_audit(api, project, person)
        on_audit, on_finding = f'id: "{audit["id"]}"', f'id: "{finding["id"]}"'
        aligned = await api.post(
            f"/api/v1/projects/{project['id']}/alignments",
            json={"objective_id": objective["id"], "contribution": 1},
        )
        on_alignment = f'id: "{aligned.json()["id"]}"'
        training = await training_records(api, person)
        on_course = f'id: "{training["course"]["id"]}"'
        on_enrollment = f'id: "{training["enrollment"]["id"]}"'
        on_certification = f'id: "{training["certification"]["id"]}"'
        calls = {
            "createAlignment": (
                f'{in_project}, input: {{objectiveId: "{objective["id"]}", contribution: 2}}'
            ),
            "updateAlignment": f"{on_alignment}, input: {{contribution: 2}}",
            "archiveAlignment": on_alignment,
            "createAudit": (
                f'input: {{projectId: "{project["id"]}", type: HEALTH_CHECK, '
                f'auditorId: "{person["id"]}", plannedOn: "2027-01-04"}}'
            ),
            "updateAudit": f'{on_audit}, input: {{scope: "V"}}',
            "archiveAudit": on_audit,
            "startAudit": on_audit,
            "answerAudit": f'{on_audit}, answers: [{{item: "x", answer: CONFORMS}}]',
            "completeAudit": on_audit,
            "raiseComplianceFindings": f'auditId: "{audit["id"]}"',
            "createFinding": f'input: {{auditId: "{audit["id"]}", description: "V"}}',
            "updateFinding": f'{on_finding}, input: {{remediation: "V"}}',
            "archiveFinding": on_finding,
            "remediateFinding": on_finding,
            "resolveFinding": on_finding,
            "acceptFinding": f'{on_finding}, note: "V"',
            "createCourse": 'input: {title: "V", skill: "agile", level: 1, hours: 1}',
            "updateCourse": f"{on_course}, input: {{hours: 2}}",
            "archiveCourse": on_course,
            "createEnrollment": (
                f'input: {{personId: "{person["id"]}", courseId: "{training["course"]["id"]}"}}'
            ),
            "updateEnrollment": f"{on_enrollment}, input: {{score: 5}}",
            "archiveEnrollment": on_enrollment,
            "startEnrollment": on_enrollment,
            "completeEnrollment": f"{on_enrollment}, score: 50",
            "withdrawEnrollment": on_enrollment,
            "createCertification": f'input: {{personId: "{person["id"]}", name: "V"}}',
            "updateCertification": f'{on_certification}, input: {{issuer: "V"}}',
            "archiveCertification": on_certification,
            "createRisk": f'{in_project}, input: {{title: "V", probability: 1, impact: 1}}',
            "updateRisk": f'{on("risks")}, input: {{title: "V"}}',
            "archiveRisk": on("risks"),
            "createIssue": f'{in_project}, input: {{title: "V"}}',
            "updateIssue": f'{on("issues")}, input: {{title: "V"}}',
            "archiveIssue": on("issues"),
            "proposeChange": f'{in_project}, input: {{title: "V"}}',
            "updateChange": f'{on("changes")}, input: {{title: "V"}}',
            "approveChange": on("changes"),
            "rejectChange": on("changes"),
            "archiveChange": on("changes"),
            "createMilestone": f'{in_project}, input: {{name: "V", dueDate: "2027-01-01"}}',
            "updateMilestone": f'{on("milestones")}, input: {{name: "V"}}',
            "archiveMilestone": on("milestones"),
            "createDeliverable": f'{in_project}, input: {{name: "V", dueDate: "2027-01-01"}}',
            "updateDeliverable": f"{on('deliverables')}, input: {{status: ACCEPTED}}",
            "archiveDeliverable": on("deliverables"),
            "captureBaseline": f'{in_project}, input: {{name: "V"}}',
            "createStatusReport": (
                f'{in_project}, input: {{periodStart: "2026-11-01", periodEnd: "2026-11-07", '
                "overallHealth: GREEN, scheduleHealth: GREEN, budgetHealth: GREEN, "
                'scopeHealth: GREEN, resourcesHealth: GREEN, summary: "V"}'
            ),
            "updateStatusReport": f'{on("status-reports")}, input: {{summary: "V"}}',
            "submitStatusReport": on("status-reports"),
            "archiveStatusReport": on("status-reports"),
            "recordCost": (
                f'{in_project}, input: {{incurredOn: "2026-11-01", amount: 5, '
                'category: LABOUR, description: "V"}'
            ),
            "updateCost": f'{on("costs")}, input: {{description: "V"}}',
            "archiveCost": on("costs"),
            "createAssignment": (
                f'{in_project}, input: {{personId: "{person["id"]}", role: "V", '
                'allocationPercent: 10, startDate: "2026-11-02", endDate: "2026-11-30"}'
            ),
            "updateAssignment": f'{on("assignments")}, input: {{role: "V"}}',
            "archiveAssignment": on("assignments"),
            "createAssumption": f'{in_project}, input: {{title: "V"}}',
            "updateAssumption": f'{on("assumptions")}, input: {{title: "V"}}',
            "archiveAssumption": on("assumptions"),
            "createPerson": 'input: {name: "V", email: "viewer-write@example.com"}',
            "updatePerson": f'id: "{person["id"]}", input: {{title: "V"}}',
            "archivePerson": f'id: "{person["id"]}"',
            "createPortfolio": f'input: {{key: "{new_key()}", name: "V"}}',
            "updatePortfolio": f'id: "{empty["id"]}", input: {{name: "V"}}',
            "archivePortfolio": f'id: "{empty["id"]}"',
            "createProject": (
                f'input: {{key: "{new_key()}", name: "V", portfolioId: "{portfolio["id"]}"}}'
            ),
            "updateProject": f'id: "{project["id"]}", input: {{name: "V"}}',
            "archiveProject": f'id: "{project["id"]}"',
            "createObjective": (
                f'input: {{key: "{new_key()}", title: "V", periodStart: "2027-01-01", '
                'periodEnd: "2027-12-31"}'
            ),
            "updateObjective": f'id: "{objective["id"]}", input: {{weight: 5}}',
            "archiveObjective": f'id: "{objective["id"]}"',
            "createPolicy": (
                f'input: {{key: "{new_key()}", title: "V", rules: [{{code: "BASE", '
                'title: "V", check: {type: "baseline_present", params: {}}}]}'
            ),
            "updatePolicy": f'{on_policy}, input: {{title: "V"}}',
            "publishPolicy": on_policy,
            "retirePolicy": on_policy,
            "archivePolicy": on_policy,
            "createMethodology": (
                f'input: {{key: "{new_key()}", name: "V", phases: [{{name: "start"}}]}}'
            ),
            "updateMethodology": f'{on_methodology}, input: {{name: "V"}}',
            "publishMethodology": on_methodology,
            "retireMethodology": on_methodology,
            "archiveMethodology": on_methodology,
            "makeTransition": f'{in_project}, input: {{toPhase: "end"}}',
            "createLesson": (
                f'input: {{projectId: "{project["id"]}", category: "x", title: "V", '
                'whatHappened: "V"}'
            ),
            "updateLesson": f'id: "{lesson["id"]}", input: {{title: "V"}}',
            "archiveLesson": f'id: "{lesson["id"]}"',
            "createTemplate": f'input: {{key: "{new_key()}", name: "V"}}',
            "updateTemplate": f'{on_template}, input: {{name: "V"}}',
            "publishTemplate": on_template,
            "retireTemplate": on_template,
            "archiveTemplate": on_template,
            "recordGateReview": (
                f'{in_project}, input: {{phase: "end", role: "sponsor", decision: GO}}'
            ),
        }
        mutation_type = graphql_schema._schema.mutation_type
        assert mutation_type is not None
        assert set(calls) == set(mutation_type.fields), "a new mutation: add it here"
        counts = await api.table_counts()
        for name, arguments in calls.items():
            body = await api.gql(
                f"mutation {{ {name}({arguments}) {{ __typename ... on Error {{ code }} }} }}",
                role="viewer",
            )
            assert body["data"][name]["__typename"] == "ForbiddenError", (name, body)
        assert await api.table_counts() == counts

    async def test_a_manager_cannot_reach_staff_operations(self, api: Api) -> None:
        own = await managed_project(api, "manager")
        counts = await api.table_counts()
        rest = [
            await api.post("/api/v1/portfolios", "manager", json={"key": new_key(), "name": "M"}),
            await api.patch(f"/api/v1/portfolios/{own['portfolio_id']}", "manager", json={}),
            await api.post("/api/v1/people", "manager", json={"name": "M", "email": "m@ex.com"}),
            await api.delete(f"/api/v1/people/{api.people['manager']['id']}", "manager"),
            await api.delete(f"/api/v1/projects/{own['id']}", "manager"),
        ]
        for response in rest:
            assert_problem(response, 403)
        gql = await api.gql(
            f"""mutation {{
            a: createPortfolio(input: {{key: "{new_key()}", name: "M"}}) {{ __typename }}
            b: archivePerson(id: "{api.people["manager"]["id"]}") {{ __typename }}
            c: archiveProject(id: "{own["id"]}") {{ __typename }} }}""",
            role="manager",
        )
        assert gql["data"] == {
            "a": {"__typename": "ForbiddenError"},
            "b": {"__typename": "ForbiddenError"},
            "c": {"__typename": "ForbiddenError"},
        }
        assert await api.table_counts() == counts

    async def test_undocumented_methods_are_405_with_allow(self, api: Api) -> None:
        counts = await api.table_counts()
        probes = {"PUT", "TRACE", "OPTIONS", "GET", "POST", "PATCH", "DELETE"}
        served = {**DOCUMENTED, "/graphql": {"GET", "POST"}}
        for template, methods in served.items():
            for method in sorted(probes - methods):
                response = await api.request(method, concrete(template))
                assert_problem(response, 405, "method_not_allowed")
                assert set(response.headers["allow"].split(", ")) == methods, (method, template)
        assert await api.table_counts() == counts


# =========================================================================================
# API6:2023 Unrestricted access to sensitive business flows: not yet (module docstring).
# API7:2023 Server side request forgery: not yet, no outbound calls (module docstring).
# =========================================================================================


# =========================================================================================
# API8:2023 Security misconfiguration
# =========================================================================================

LEAKS = (
    "select",
    "insert",
    "secret_hash",
    "api_keys",
    "traceback",
    'file "',
    "sqlalchemy",
    "constraint",
    "boom",
    "psycopg",
    "asyncpg",
    "sqlite",
)


def _assert_no_leak(response: httpx.Response) -> None:
    text = response.text.lower()
    for leak in LEAKS:
        assert leak not in text, (leak, response.text)


INTERNAL_ERRORS: dict[str, Callable[[], Exception]] = {
    "runtime": lambda: RuntimeError("boom: SELECT secret_hash FROM api_keys WHERE prefix = 'x'"),
    "programming": lambda: ProgrammingError(
        "SELECT secret_hash FROM api_keys", {"prefix": "x"}, Exception("syntax error at SELECT")
    ),
    "integrity": lambda: IntegrityError(
        "INSERT INTO projects (name) VALUES (?)",
        (None,),
        Exception("NOT NULL constraint failed: projects.name"),
    ),
}


class TestAPI8SecurityMisconfiguration:
    @pytest.mark.parametrize("kind", list(INTERNAL_ERRORS))
    async def test_internal_errors_show_no_trace_or_sql(
        self, api: Api, monkeypatch: pytest.MonkeyPatch, kind: str
    ) -> None:
        project = await api.make_project()

        async def broken(*_args: Any, **_kwargs: Any) -> Any:
            raise INTERNAL_ERRORS[kind]()

        monkeypatch.setattr(ProjectRepository, "filtered_page", broken)
        monkeypatch.setattr(ProjectRepository, "get", broken)
        monkeypatch.setattr(ProjectRepository, "read_list", broken)  # REST reads
        monkeypatch.setattr(ProjectRepository, "read", broken)
        counts = await api.table_counts()
        for response in (
            await api.get("/api/v1/projects"),
            await api.get(f"/api/v1/projects/{project['id']}"),
            await api.patch(f"/api/v1/projects/{project['id']}", json={"name": "Never"}),
        ):
            body = assert_problem(response, 500, "internal_error")
            assert body["detail"] == (
                "Something went wrong on our side; quote the request_id when reporting it."
            )
            assert response.headers["x-content-type-options"] == "nosniff"
            _assert_no_leak(response)
        for query in (
            "{ projects { nodes { key } } }",
            f'{{ project(idOrKey: "{project["key"]}") {{ key }} }}',
            f'mutation {{ updateProject(id: "{project["id"]}", input: {{name: "Never"}}) '
            "{ __typename } }",
        ):
            response = await api.post("/graphql", json={"query": query})
            assert response.status_code == 200
            errors = response.json()["errors"]
            assert [(e["message"], e["extensions"]) for e in errors] == [
                (MASKED_MESSAGE, {"code": "internal_error"})
            ]
            _assert_no_leak(response)
        assert await api.table_counts() == counts

    async def test_database_loss_shows_no_sql(
        self, api: Api, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async def gone(*_args: Any, **_kwargs: Any) -> Any:
            raise OperationalError(
                "SELECT secret_hash FROM api_keys", None, ConnectionError("connection refused")
            )

        monkeypatch.setattr(ProjectRepository, "filtered_page", gone)
        monkeypatch.setattr(ProjectRepository, "read_list", gone)  # REST reads
        for response in (
            await api.get("/api/v1/projects"),
            await api.post("/graphql", json={"query": "{ projects { nodes { key } } }"}),
        ):
            assert_problem(response, 503, "database_unavailable")
            assert response.headers["retry-after"]
            _assert_no_leak(response)

    async def test_security_headers_on_every_response(self, api: Api) -> None:
        project = await api.make_project()
        path = f"/api/v1/projects/{project['id']}"
        authenticated = [
            await api.get(path),  # 200
            await api.post("/api/v1/portfolios", json={"key": new_key(), "name": "H"}),  # 201
            await api.get(path, headers={"If-None-Match": '"1"'}),  # 304
            await api.post(
                "/api/v1/portfolios",
                content=b"{",
                headers={"Content-Type": "application/json"},
            ),  # 400
            await api.patch(path, "viewer", json={"name": "x"}),  # 403
            await api.get(f"/api/v1/projects/{uuid.uuid4()}"),  # 404
            await api.get("/api/v1/nowhere"),  # 404 (no route)
            await api.request("PUT", path),  # 405
            await api.patch(path, json={"name": "x"}, headers={"If-Match": '"9"'}),  # 412
            await api.post(
                "/api/v1/portfolios",
                content=b"x",
                headers={"Content-Type": "application/json", "Content-Length": "99999999"},
            ),  # 413, refused by the middleware
            await api.post(
                "/api/v1/portfolios", content=b"a=b", headers={"Content-Type": "text/plain"}
            ),  # 415
            await api.get("/api/v1/projects", params={"limit": "0"}),  # 422
            await api.post("/graphql", json={"query": "{ viewer { name } }"}),
            await api.post("/graphql", json={"query": "{ nope }"}),
            await api.get("/graphql", params={"query": "mutation { x }"}),  # 400
            await api.get("/healthz"),
        ]
        for response in authenticated:
            assert response.headers["x-content-type-options"] == "nosniff", response.request.url
            assert response.headers["cache-control"] == "no-store", response.request.url
        statuses = {response.status_code for response in authenticated}
        assert statuses >= {200, 201, 304, 400, 403, 404, 405, 412, 413, 415, 422}
        anonymous = [
            await api.http.get("/healthz"),
            await api.http.get("/readyz"),
            await api.http.get("/openapi.json"),
            await api.http.get("/docs"),
            await api.http.get("/graphql", headers={"Accept": "text/html"}),
            await api.http.get("/api/v1/projects"),  # 401
            await api.http.post("/graphql", json={"query": "{ viewer { name } }"}),  # 401
        ]
        for response in anonymous:
            assert response.headers["x-content-type-options"] == "nosniff", response.request.url
        for response in anonymous[-2:]:
            assert response.headers["cache-control"] == "no-store"

    async def test_cors_is_off_unless_configured(self, api: Api) -> None:
        origin = {"Origin": "https://evil.example"}
        preflight = {**origin, "Access-Control-Request-Method": "PATCH"}
        for response in (
            await api.get("/api/v1/projects", headers=origin),
            await api.post("/graphql", json={"query": "{ viewer { name } }"}, headers=origin),
        ):
            assert response.status_code == 200
            assert not [h for h in response.headers if h.startswith("access-control-")]
        for path, allow in (("/api/v1/projects", "GET, POST"), ("/graphql", "GET, POST")):
            response = await api.http.options(path, headers=preflight)
            assert_problem(response, 405, "method_not_allowed")
            assert response.headers["allow"] == allow
            assert not [h for h in response.headers if h.startswith("access-control-")]

    async def test_cors_allows_only_the_configured_origins(
        self, backend: str, tmp_path: Path
    ) -> None:
        allowed = "https://pmo.example.com"
        api, stop = await start_api(
            backend, tmp_path, cors_origins=[allowed, "http://localhost:5173"]
        )
        try:
            auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
            simple = await api.http.get("/api/v1/projects", headers={**auth, "Origin": allowed})
            assert simple.status_code == 200
            assert simple.headers["access-control-allow-origin"] == allowed
            assert "Origin" in simple.headers["vary"]
            assert "etag" in simple.headers["access-control-expose-headers"].lower()
            assert "access-control-allow-credentials" not in simple.headers
            preflight = await api.http.options(
                "/api/v1/projects/ABC-1",
                headers={
                    "Origin": allowed,
                    "Access-Control-Request-Method": "PATCH",
                    "Access-Control-Request-Headers": "authorization, content-type, if-match",
                },
            )
            assert preflight.status_code == 200
            assert preflight.headers["access-control-allow-origin"] == allowed
            assert "PATCH" in preflight.headers["access-control-allow-methods"]
            assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
            assert preflight.headers["x-content-type-options"] == "nosniff"
            assert "access-control-allow-credentials" not in preflight.headers
            # The service's own refusals carry it too, so a browser can read them.
            for refused in (
                await api.http.get("/api/v1/projects", headers={"Origin": allowed}),  # 401
                await api.http.post(
                    "/graphql",
                    content=b"x",
                    headers={
                        **auth,
                        "Origin": allowed,
                        "Content-Type": "application/json",
                        "Content-Length": "99999999",
                    },
                ),  # 413
            ):
                assert refused.status_code in (401, 413)
                assert refused.headers["access-control-allow-origin"] == allowed

            for other in ("https://evil.example", "https://pmo.example.com.evil.example", "null"):
                response = await api.http.get("/api/v1/projects", headers={**auth, "Origin": other})
                assert "access-control-allow-origin" not in response.headers
                refused_preflight = await api.http.options(
                    "/graphql", headers={"Origin": other, "Access-Control-Request-Method": "POST"}
                )
                assert_problem(refused_preflight, 405, "method_not_allowed")
                assert "access-control-allow-origin" not in refused_preflight.headers
            # An allowed origin asking for a method or header the API does not take.
            for ask in (
                {"Access-Control-Request-Method": "PUT"},
                {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-y"},
            ):
                response = await api.http.options(
                    "/api/v1/projects", headers={"Origin": allowed, **ask}
                )
                assert_problem(response, 405, "method_not_allowed")
                assert "access-control-allow-origin" not in response.headers
        finally:
            await stop()

    async def test_graphql_ide_and_introspection_can_be_turned_off(
        self, backend: str, tmp_path: Path
    ) -> None:
        api, stop = await start_api(
            backend, tmp_path, graphql_ide=False, graphql_introspection=False
        )
        try:
            for query in (
                "{ __schema { types { name } } }",
                '{ __type(name: "Project") { fields { name } } }',
                "query { ...F } fragment F on Query { __schema { queryType { name } } }",
                "{ viewer { name } a: __schema { mutationType { name } } }",
            ):
                body = await api.gql(query)
                assert body["data"] is None, query
                assert set(gql_errors(body)) == {"invalid_query"}
                assert all(
                    e["message"].startswith("GraphQL introspection has been disabled")
                    for e in body["errors"]
                )
            over_get = await api.get(
                "/graphql", params={"query": "{ __schema { types { name } } }"}
            )
            assert over_get.json()["data"] is None
            # No suggestions that would sketch the schema either.
            misspelt = await api.gql("{ projectz { nodes { key } } }")
            assert "Did you mean" not in misspelt["errors"][0]["message"]
            # Ordinary queries, __typename included, still work.
            assert (await api.gql("{ viewer { __typename role } }"))["data"] == {
                "viewer": {"__typename": "Viewer", "role": "ADMIN"}
            }
            for headers in ({"Accept": "text/html"}, {"Accept": "text/html", **api.headers()}):
                page = await api.http.get("/graphql", headers=headers)
                assert_problem(page, 404, "not_found")
                assert "<html" not in page.text.lower()
        finally:
            await stop()


# =========================================================================================
# API9:2023 Improper inventory management
# =========================================================================================

SERVED_OUTSIDE_OPENAPI = {
    "/graphql",
    "/docs",
    "/openapi.json",
    "/docs/oauth2-redirect",
    "/metrics",  # Prometheus text, not JSON
}


def served_operations(app: Any) -> set[tuple[str, str]]:
    """Every (path, method) the app serves, included routers flattened: FastAPI 0.165
    wraps them in a private route type offering ``effective_route_contexts()``."""
    served: set[tuple[str, str]] = set()
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        pairs = (
            [(c.path, c.original_route.methods) for c in contexts()]
            if contexts is not None
            else [(route.path, getattr(route, "methods", None) or {"WEBSOCKET"})]
        )
        for path, methods in pairs:
            served |= {(path, method) for method in methods or ()}
    return served


class TestAPI9Inventory:
    def test_every_served_route_is_in_the_committed_openapi(self) -> None:
        app = create_app(contract_settings())
        served = served_operations(app)
        assert {path for path, _ in served} >= SERVED_OUTSIDE_OPENAPI
        served = {(p, m) for p, m in served if p not in SERVED_OUTSIDE_OPENAPI}
        documented = {(path, method) for path, methods in DOCUMENTED.items() for method in methods}
        assert served - documented == set(), "served but not in openapi/openapi.json"
        assert documented - served == set(), "in openapi/openapi.json but not served"
        assert len(documented) >= 20

    def test_routes_outside_the_openapi_are_only_the_deliberate_ones(self) -> None:
        app = create_app(contract_settings())
        hidden = {
            path
            for path, _ in served_operations(app)
            if path not in OPENAPI["paths"]  # e.g. include_in_schema=False
        }
        assert hidden == SERVED_OUTSIDE_OPENAPI
        versioned = set(OPENAPI["paths"]) - UNAUTHENTICATED_PATHS
        assert all(path.startswith("/api/v1") for path in versioned)


# =========================================================================================
# API10:2023 Unsafe consumption of APIs: not yet, no third-party API (module docstring).
# =========================================================================================


# --- the CORS setting itself -------------------------------------------------------------


def test_cors_origins_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.model_construct().cors_origins == []
    monkeypatch.setenv("PMO_CORS_ORIGINS", "https://a.example, http://localhost:5173")
    assert load_settings().cors_origins == ["https://a.example", "http://localhost:5173"]
    monkeypatch.setenv("PMO_CORS_ORIGINS", '["https://a.example"]')
    assert load_settings().cors_origins == ["https://a.example"]
    monkeypatch.setenv("PMO_CORS_ORIGINS", "")
    assert load_settings().cors_origins == []
    for bad in ("https://a.example/", "a.example", "https://a.example/app", "ftp://a.example"):
        monkeypatch.setenv("PMO_CORS_ORIGINS", bad)
        with pytest.raises(SettingsError, match="PMO_CORS_ORIGINS"):
            load_settings()
