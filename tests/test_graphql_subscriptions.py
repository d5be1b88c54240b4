"""Live updates: the hub (events/live.py) alone, then GraphQL subscriptions over a real
WebSocket (graphql-transport-ws) against a real server, on both databases, and across
two ``pmo-api serve`` processes on PostgreSQL.

The GraphQL tests served in-process hand events to the app's hub directly
(``publish``), as the webhook dispatcher does after committing its fan-out; the
end-to-end tests (``test_*_through_the_dispatcher``, the cross-process test) make the
change through the API and the dispatcher publishes it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from pmo_api.events.live import (
    PAYLOAD_LIMIT,
    LiveEvent,
    LiveHub,
    PostgresLiveHub,
    SubscriberTooSlow,
    notification_payloads,
    read_payload,
)
from tests.conftest import ADMIN_KEY, Api, _add_role_keys, create_database, new_key, start_api
from tests.faults.harness import Service, free_port, serving

PROTOCOL = Subprotocol("graphql-transport-ws")
WAIT = 5.0
"""Seconds an expected message may take."""

PROJECT_CHANGED = """subscription($portfolio: ID, $nested: Boolean! = false) {
  projectChanged(portfolio: $portfolio, includeSubPortfolios: $nested) {
    id uuid key name version portfolio { key } manager { name } } }"""
PORTFOLIO_CHANGED = """subscription($id: ID!, $nested: Boolean! = false) {
  portfolioChanged(id: $id, includeSubPortfolios: $nested) { id uuid key name version } }"""
EVENTS = """subscription($types: [String!]) { events(types: $types) {
  uuid type entityType entityId entityGlobalId auditEventId projectId portfolioId
  occurredAt version entity { __typename id ... on Project { key name } } } }"""


def event(
    type_: str,
    entity_id: Any,
    *,
    project: Any = None,
    portfolio: Any = None,
    version: int | None = None,
) -> LiveEvent:
    """A live event as the dispatcher hands it over (ids as UUIDs or their text)."""

    def as_uuid(value: Any) -> uuid.UUID | None:
        return None if value is None else uuid.UUID(str(value))

    entity = as_uuid(entity_id)
    assert entity is not None
    return LiveEvent(
        id=uuid.uuid4(),
        type=type_,
        entity_type=type_.split(".", 1)[0],
        entity_id=entity,
        project_id=as_uuid(project),
        portfolio_id=as_uuid(portfolio),
        occurred_at=datetime.now(UTC),
        version=version,
    )


async def until(condition: Callable[[], bool], seconds: float = WAIT) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


# --- the hub alone -------------------------------------------------------------------------


async def test_hub_hands_each_subscriber_what_it_asked_for_in_order() -> None:
    hub = LiveHub(queue_size=10)
    every = hub.subscribe()
    projects = hub.subscribe(lambda e: e.project_id is not None)
    sent = [
        event("project.updated", uuid.uuid4(), project=uuid.uuid4(), version=2),
        event("person.created", uuid.uuid4()),
        event("risk.created", uuid.uuid4(), project=uuid.uuid4()),
    ]
    await hub.publish(sent)
    assert [await anext(every) for _ in sent] == sent
    assert await anext(projects) == sent[0]
    assert projects.pending() == [sent[2]]
    assert hub.subscriber_count == 2
    projects.close()
    assert hub.subscriber_count == 1
    await hub.stop()
    with pytest.raises(StopAsyncIteration):
        await anext(every)
    assert hub.subscriber_count == 0


async def test_a_slow_subscriber_is_dropped_and_told_so_while_the_others_go_on() -> None:
    hub = LiveHub(queue_size=3)
    slow = hub.subscribe()
    reader = hub.subscribe()
    received: list[LiveEvent] = []

    async def read() -> None:
        async for item in reader:
            received.append(item)

    reading = asyncio.create_task(read())
    sent = [event("person.updated", uuid.uuid4()) for _ in range(5)]
    for item in sent:  # one by one: the reader keeps up, the slow one never reads
        await hub.publish([item])
        await asyncio.sleep(0)
    await until(lambda: len(received) == len(sent))
    assert received == sent
    assert hub.subscriber_count == 1  # the slow one left the hub...
    assert slow.closed
    with pytest.raises(SubscriberTooSlow):  # ...and says so at once, its queue emptied
        await anext(slow)
    await hub.stop()
    await reading


def test_notifications_are_batched_under_postgresqls_payload_limit() -> None:
    sent = [
        event("milestone.updated", uuid.uuid4(), project=uuid.uuid4(), portfolio=uuid.uuid4())
        for _ in range(200)
    ]
    payloads = list(notification_payloads("origin-1", sent))
    assert len(payloads) > 1
    assert all(len(payload.encode()) <= PAYLOAD_LIMIT for payload in payloads)
    read = [read_payload(payload) for payload in payloads]
    assert {origin for origin, _ in read} == {"origin-1"}
    assert [item for _, items in read for item in items] == sent
    with pytest.raises(ValueError):
        read_payload('{"not": "ours"}')


async def test_postgresql_hubs_hand_events_to_each_other_and_listen_again_when_cut(
    tmp_path: Path,
) -> None:
    url, drop = await create_database("postgresql", tmp_path)
    here = LiveHub.for_database(url, queue_size=500)
    there = LiveHub.for_database(url, queue_size=500)
    assert isinstance(here, PostgresLiveHub) and isinstance(there, PostgresLiveHub)
    try:
        await here.start()
        await there.start()
        mine, theirs = here.subscribe(), there.subscribe()
        sent = [event("project.updated", uuid.uuid4(), version=i) for i in range(120)]
        await here.publish(sent)
        assert [await asyncio.wait_for(anext(theirs), WAIT) for _ in sent] == sent
        # This process's own subscribers get each event once: not again by NOTIFY.
        assert [await anext(mine) for _ in sent] == sent
        await asyncio.sleep(0.3)
        assert mine.pending() == []

        # The listening connection is cut: the hub listens again and hears what follows.
        assert there._listener is not None
        backend = there._listener.get_server_pid()
        admin = await asyncpg.connect("postgresql://" + url.split("://", 1)[1])
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", backend)
        finally:
            await admin.close()
        await until(lambda: not there.listens.is_set() or there._listener is None, 10)
        await asyncio.wait_for(there.listens.wait(), 10)
        later = event("project.archived", uuid.uuid4())
        await here.publish([later])
        assert await asyncio.wait_for(anext(theirs), WAIT) == later
    finally:
        await here.stop()
        await there.stop()
        if drop is not None:
            await drop()


# --- a graphql-transport-ws client ---------------------------------------------------------


class Live:
    """One WebSocket speaking graphql-transport-ws; messages kept per operation id."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.waiting: dict[str, list[dict[str, Any]]] = {}
        self._ids = 0

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self, seconds: float = WAIT) -> dict[str, Any]:
        frame = await asyncio.wait_for(self.socket.recv(), seconds)
        assert isinstance(frame, str), "the protocol's messages are text frames"
        message: dict[str, Any] = json.loads(frame)
        if message["type"] == "ping":
            await self.send({"type": "pong"})
            return await self.receive(seconds)
        return message

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._ids += 1
        id_ = str(self._ids)
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": id_, "type": "subscribe", "payload": payload})
        return id_

    async def message(self, id_: str, seconds: float = WAIT) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while not self.waiting.get(id_):
            message = await self.receive(max(deadline - time.monotonic(), 0.001))
            self.waiting.setdefault(message.get("id", ""), []).append(message)
        return self.waiting[id_].pop(0)

    async def next(self, id_: str, seconds: float = WAIT) -> dict[str, Any]:
        """The data of the operation's next result (errors fail the test)."""
        message = await self.message(id_, seconds)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message["payload"]
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def next_where(
        self, id_: str, wanted: Callable[[dict[str, Any]], bool], seconds: float = WAIT
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The first result that is ``wanted``, and those that came before it (events
        of the test's own setup may be published too, once the dispatcher runs)."""
        deadline = time.monotonic() + seconds
        before: list[dict[str, Any]] = []
        while True:
            data = await self.next(id_, max(deadline - time.monotonic(), 0.001))
            if wanted(data):
                return data, before
            before.append(data)

    async def closed_with(self) -> tuple[int, str]:
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await self.receive()
        received = closed.value.rcvd
        assert received is not None
        return received.code, received.reason


@asynccontextmanager
async def socket(url: str, headers: dict[str, str] | None = None) -> AsyncIterator[Live]:
    async with connect(url, subprotocols=[PROTOCOL], additional_headers=headers) as ws:
        yield Live(ws)


@asynccontextmanager
async def live(url: str, key: str = ADMIN_KEY) -> AsyncIterator[Live]:
    """A connection, initialised with ``key`` and acknowledged."""
    async with socket(url) as client:
        await client.send(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
        )
        assert await client.receive() == {"type": "connection_ack"}
        yield client


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """A started app served on a port of its own (its lifespan is its starter's), for
    WebSocket clients: the URL of its GraphQL socket."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), lifespan="off", log_config=None
    )
    server = uvicorn.Server(config)
    serving_task = asyncio.create_task(server.serve())
    await until(lambda: server.started, 10)
    try:
        yield f"ws://127.0.0.1:{config.port}/graphql"
    finally:
        server.should_exit = True
        await serving_task


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def served(api: Api) -> AsyncIterator[str]:
    """The ``api`` app, served."""
    async with serve(api.app) as url:
        yield url


def hub(api: Api) -> LiveHub:
    found: LiveHub = api.app.state.pmo.live
    return found


async def subscribed(api: Api, client: Live, query: str, variables: dict[str, Any]) -> str:
    """Subscribe, once the earlier tests' subscriptions are gone, and wait until the hub
    has the new one (the protocol does not acknowledge a subscribe)."""
    await until(lambda: hub(api).subscriber_count == 0)
    id_ = await client.subscribe(query, variables)
    await until(lambda: hub(api).subscriber_count == 1)
    return id_


async def errors_of(client: Live, id_: str) -> list[dict[str, Any]]:
    message = await client.message(id_)
    assert message["type"] in ("error", "next"), message
    payload = message["payload"]
    errors: list[dict[str, Any]] = payload if message["type"] == "error" else payload["errors"]
    return errors


def codes(errors: list[dict[str, Any]]) -> list[str]:
    return [error["extensions"]["code"] for error in errors]


# --- authentication and the protocol -------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "missing_credentials"),
        ({"Authorization": "Basic abc"}, "malformed_credentials"),
        ({"Authorization": "Bearer pmo_no_such_key_0000000000"}, "invalid_credentials"),
    ],
)
async def test_a_socket_without_a_valid_key_is_closed_unauthorized(
    served: str, payload: dict[str, str], code: str
) -> None:
    async with socket(served) as client:
        await client.send({"type": "connection_init", "payload": payload})
        assert await client.closed_with() == (4401, code)


async def test_the_key_may_come_in_any_case_or_on_the_upgrade_request(
    api: Api, served: str
) -> None:
    for payload in (
        {"authorization": f"Bearer {api.keys['viewer']}"},
        {"AUTHORIZATION": f"bearer {api.keys['viewer']}"},
    ):
        async with socket(served) as client:
            await client.send({"type": "connection_init", "payload": payload})
            assert await client.receive() == {"type": "connection_ack"}
    headers = {"Authorization": f"Bearer {api.keys['manager']}"}
    async with socket(served, headers) as client:
        await client.send({"type": "connection_init"})
        assert await client.receive() == {"type": "connection_ack"}


async def test_a_key_in_the_url_or_a_page_of_another_origin_is_refused_the_socket(
    served: str,
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with socket(f"{served}?api_key={ADMIN_KEY}"):
            pass
    assert refused.value.response.status_code == 403
    # Browsers' pages: as with CORS (PMO_CORS_ORIGINS, none here), only the API's own.
    with pytest.raises(InvalidStatus) as refused:
        async with socket(served, {"Origin": "https://elsewhere.example"}):
            pass
    assert refused.value.response.status_code == 403
    own = "http://" + served.split("//", 1)[1].split("/", 1)[0]
    async with socket(served, {"Origin": own}) as client:
        await client.send(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {ADMIN_KEY}"}}
        )
        assert await client.receive() == {"type": "connection_ack"}


async def test_a_key_revoked_while_subscribed_ends_its_subscriptions(api: Api, served: str) -> None:
    made = await api.post("/api/v1/api-keys", json={"name": "revoked live", "role": "viewer"})
    assert made.status_code == 201, made.text
    key = made.json()
    async with live(served, key["secret"]) as client:
        id_ = await subscribed(api, client, EVENTS, {})
        revoked = await api.delete(f"/api/v1/api-keys/{key['id']}")
        assert revoked.status_code == 200, revoked.text
        await hub(api).publish([event("person.updated", api.people["manager"]["id"])])
        assert codes(await errors_of(client, id_)) == ["invalid_credentials"]
        assert (await client.message(id_))["type"] == "complete"


async def test_subscribing_before_connection_init_is_unauthorized(served: str) -> None:
    async with socket(served) as client:
        await client.subscribe(EVENTS)
        assert (await client.closed_with())[0] == 4401


async def test_queries_and_mutations_are_refused_over_the_socket(served: str) -> None:
    async with live(served) as client:
        query = await client.subscribe("{ viewer { role } }")
        assert codes(await errors_of(client, query)) == ["subscriptions_only"]
        mutation = await client.subscribe(
            'mutation { createPortfolio(input: {key: "X-1", name: "x"}) { __typename } }'
        )
        assert codes(await errors_of(client, mutation)) == ["subscriptions_only"]


async def test_the_query_limits_apply_to_subscriptions(served: str) -> None:
    deep = "subscription { projectChanged { portfolio { projects { edges { node { portfolio {"
    deep += " projects { edges { node { portfolio { projects { edges { node { key } } } } } } }"
    deep += " } } } } } } }"
    expensive = """subscription { portfolioChanged(id: "NONE-1") { projects(first: 200) {
      nodes { risks(first: 200) { nodes { title } } milestones(first: 200) { nodes { name } }
      issues(first: 200) { nodes { title } } } } } }"""
    async with live(served) as client:
        too_deep = await client.subscribe(deep)
        assert codes(await errors_of(client, too_deep)) == ["invalid_query"]
        too_costly = await client.subscribe(expensive)
        assert codes(await errors_of(client, too_costly)) == ["query_too_expensive"]


async def test_a_subscription_over_http_is_refused(api: Api) -> None:
    body = await api.gql(EVENTS)
    assert body.get("data") is None and body["errors"]


# --- what each subscription yields (events handed to the hub directly) ---------------------


async def test_project_changed_yields_the_project_as_it_is_now(api: Api, served: str) -> None:
    project = await api.make_project(manager_id=api.people["manager"]["id"])
    async with live(served, api.keys["viewer"]) as client:
        id_ = await subscribed(api, client, PROJECT_CHANGED, {})
        await hub(api).publish(
            [
                event(
                    "risk.created",
                    uuid.uuid4(),
                    project=project["id"],
                    portfolio=project["portfolio_id"],
                )
            ]
        )
        data, _ = await client.next_where(
            id_, lambda d: d["projectChanged"]["uuid"] == project["id"]
        )
    shown = data["projectChanged"]
    assert shown["key"] == project["key"] and shown["version"] == project["version"]
    assert shown["manager"] == {"name": "Manager"}
    assert shown["portfolio"]["key"]


async def test_project_changed_follows_a_portfolio_and_if_asked_those_below_it(
    api: Api, served: str
) -> None:
    program = await api.make_portfolio()
    below = await api.make_portfolio(parent_id=program["id"])
    elsewhere = await api.make_portfolio()
    mine = await api.make_project(program["id"])
    nested = await api.make_project(below["id"])
    other = await api.make_project(elsewhere["id"])

    def updated(project: dict[str, Any]) -> LiveEvent:
        return event(
            "project.updated",
            project["id"],
            project=project["id"],
            portfolio=project["portfolio_id"],
        )

    for nested_too, expected in ((False, [mine]), (True, [nested, mine])):
        async with live(served, api.keys["pmo"]) as client:
            variables = {"portfolio": program["key"], "nested": nested_too}
            id_ = await subscribed(api, client, PROJECT_CHANGED, variables)
            await hub(api).publish([updated(other), updated(nested)])
            await hub(api).publish([updated(mine)])
            _, before = await client.next_where(
                id_, lambda d: d["projectChanged"]["uuid"] == mine["id"]
            )
        seen = [d["projectChanged"]["uuid"] for d in before] + [mine["id"]]
        assert other["id"] not in seen
        assert (nested["id"] in seen) is nested_too
        assert seen[-len(expected) :] == [p["id"] for p in expected]


async def test_events_that_came_together_show_their_project_once(api: Api, served: str) -> None:
    project = await api.make_project()
    async with live(served) as client:
        id_ = await subscribed(api, client, PROJECT_CHANGED, {"portfolio": project["portfolio_id"]})
        await hub(api).publish(
            [
                event(kind, uuid.uuid4(), project=project["id"], portfolio=project["portfolio_id"])
                for kind in ("risk.created", "milestone.created", "issue.created")
            ]
        )
        await client.next(id_)
        with pytest.raises(TimeoutError):
            await client.message(id_, 0.5)


async def test_portfolio_changed_yields_the_portfolio_for_its_own_and_its_projects_events(
    api: Api, served: str
) -> None:
    portfolio = await api.make_portfolio()
    project = await api.make_project(portfolio["id"])
    async with live(served, api.keys["manager"]) as client:
        id_ = await subscribed(api, client, PORTFOLIO_CHANGED, {"id": portfolio["key"]})
        await hub(api).publish(
            [event("portfolio.updated", portfolio["id"], portfolio=portfolio["id"])]
        )
        first, _ = await client.next_where(
            id_, lambda d: d["portfolioChanged"]["uuid"] == portfolio["id"]
        )
        await hub(api).publish(
            [
                event(
                    "project.updated",
                    project["id"],
                    project=project["id"],
                    portfolio=portfolio["id"],
                )
            ]
        )
        second = await client.next(id_)
    assert first["portfolioChanged"]["key"] == portfolio["key"]
    assert second == first


async def test_events_yields_each_event_of_the_types_asked_for(api: Api, served: str) -> None:
    project = await api.make_project()
    async with live(served) as client:
        id_ = await subscribed(api, client, EVENTS, {"types": ["project.updated"]})
        sent = event(
            "project.updated",
            project["id"],
            project=project["id"],
            portfolio=project["portfolio_id"],
            version=2,
        )
        await hub(api).publish([event("person.updated", api.people["manager"]["id"]), sent])
        data, before = await client.next_where(id_, lambda d: d["events"]["uuid"] == str(sent.id))
    assert all(d["events"]["type"] == "project.updated" for d in before)
    shown = data["events"]
    assert shown["entityType"] == "project" and shown["entityId"] == project["id"]
    assert shown["projectId"] == project["id"]
    assert shown["portfolioId"] == project["portfolio_id"]
    assert shown["version"] == 2 and shown["occurredAt"].endswith("Z")
    assert shown["entity"] == {
        "__typename": "Project",
        "id": shown["entityGlobalId"],
        "key": project["key"],
        "name": project["name"],
    }
    found = await api.gql(
        "query($id: ID!) { node(id: $id) { __typename } }", {"id": shown["auditEventId"]}
    )
    assert found["data"]["node"] in (None, {"__typename": "AuditEvent"})  # not recorded here


async def test_events_hides_from_a_subscriber_what_it_may_not_read(api: Api, served: str) -> None:
    key = await api.post("/api/v1/api-keys", json={"name": "live", "role": "viewer"})
    assert key.status_code == 201, key.text
    project = await api.make_project()
    secret = event("api_key.created", key.json()["id"])
    sentinel = event("project.updated", project["id"], project=project["id"])
    types = {"types": ["api_key.created", "project.updated"]}
    for role, sees_keys in (("admin", True), ("manager", False), ("viewer", False)):
        async with live(served, api.keys[role]) as client:
            id_ = await subscribed(api, client, EVENTS, types)
            await hub(api).publish([secret, sentinel])
            _, before = await client.next_where(
                id_, lambda d: d["events"]["uuid"] == str(sentinel.id)
            )
        seen = {d["events"]["uuid"] for d in before}
        assert (str(secret.id) in seen) is sees_keys, role


async def test_arguments_are_checked_when_subscribing(served: str) -> None:
    async with live(served) as client:
        unknown = await client.subscribe(EVENTS, {"types": ["project.exploded"]})
        assert codes(await errors_of(client, unknown)) == ["unknown_event_type"]
        nowhere = await client.subscribe(PORTFOLIO_CHANGED, {"id": "NOPE-1"})
        assert codes(await errors_of(client, nowhere)) == ["portfolio_not_found"]
        garbled = await client.subscribe(PROJECT_CHANGED, {"portfolio": "not an id"})
        assert codes(await errors_of(client, garbled)) == ["invalid_identifier"]


async def test_a_subscriber_that_falls_behind_is_ended_with_an_error(api: Api, served: str) -> None:
    project = await api.make_project()
    live_hub = hub(api)
    size = live_hub.queue_size
    live_hub.queue_size = 10
    try:
        async with live(served) as client:
            id_ = await subscribed(api, client, EVENTS, {"types": ["project.updated"]})
            burst = [event("project.updated", project["id"]) for _ in range(11)]
            await live_hub.publish(burst)  # delivered at once: no time to read any
            assert codes(await errors_of(client, id_)) == ["subscriber_too_slow"]
            assert (await client.message(id_))["type"] == "complete"
            await until(lambda: live_hub.subscriber_count == 0)
    finally:
        live_hub.queue_size = size


async def test_a_closed_socket_leaves_no_subscription_behind(api: Api, served: str) -> None:
    async with live(served) as client:
        await subscribed(api, client, EVENTS, {})
        await client.subscribe(PROJECT_CHANGED)
        await until(lambda: hub(api).subscriber_count == 2)
    await until(lambda: hub(api).subscriber_count == 0)


async def test_a_server_stopping_closes_its_sockets_for_clients_to_reconnect(
    tmp_path: Path,
) -> None:
    service = Service(f"sqlite+aiosqlite:///{tmp_path}/live.db", tmp_path, migrate=True)
    async with serving(service):
        async with live(f"ws://127.0.0.1:{service.port}/graphql") as client:
            await client.subscribe(EVENTS)
            await client.subscribe(PROJECT_CHANGED)
            await asyncio.sleep(0.2)
            service.sigterm()
            # 1012, service restart: the protocol's clients connect again (elsewhere).
            assert (await client.closed_with())[0] == 1012
        assert await service.wait(10) == 0


# --- end to end: a change made through the API reaches the subscribers ---------------------
# These need the webhook dispatcher to publish what it fans out (state.live.publish).


async def test_rest_and_graphql_changes_reach_subscribers_through_the_dispatcher(
    backend: str, tmp_path: Path
) -> None:
    """One process (SQLite, or PostgreSQL): its dispatcher publishes what it fans out."""
    api, stop = await start_api(backend, tmp_path, webhook_worker=True)
    try:
        await _add_role_keys(api)
        project = await api.make_project()
        async with serve(api.app) as url, live(url, api.keys["viewer"]) as client:
            projects = await client.subscribe(
                PROJECT_CHANGED, {"portfolio": project["portfolio_id"]}
            )
            portfolios = await client.subscribe(PORTFOLIO_CHANGED, {"id": project["portfolio_id"]})
            changes = await client.subscribe(EVENTS, {"types": ["project.updated"]})
            await until(lambda: hub(api).subscriber_count == 3)

            patched = await api.patch(f"/api/v1/projects/{project['id']}", json={"name": "Live"})
            assert patched.status_code == 200, patched.text
            shown, _ = await client.next_where(
                projects, lambda d: d["projectChanged"]["name"] == "Live"
            )
            assert shown["projectChanged"]["version"] == patched.json()["version"]
            change, _ = await client.next_where(
                changes, lambda d: d["events"]["entityId"] == project["id"]
            )
            assert change["events"]["version"] == patched.json()["version"]
            assert change["events"]["entity"]["name"] == "Live"

            body = await api.gql(
                'mutation($id: ID!) { updatePortfolio(id: $id, input: {name: "Renamed live"}) '
                "{ __typename } }",
                {"id": project["portfolio_id"]},
            )
            assert body["data"]["updatePortfolio"]["__typename"] == "PortfolioPayload", body
            renamed, _ = await client.next_where(
                portfolios, lambda d: d["portfolioChanged"]["name"] == "Renamed live"
            )
            assert renamed["portfolioChanged"]["version"] == 2
    finally:
        await stop()


async def test_a_change_through_one_process_reaches_a_subscriber_of_another(
    tmp_path: Path,
) -> None:
    """Two ``pmo-api serve`` processes on one PostgreSQL: the change is made through B,
    whose dispatcher publishes it; A (no dispatcher of its own) hears it by NOTIFY."""
    url, drop = await create_database("postgresql", tmp_path)
    a = Service(url, tmp_path, migrate=True, env={"PMO_WEBHOOK_WORKER": "false"})
    b = Service(url, tmp_path)
    try:
        async with serving(a), serving(b):
            headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
            async with httpx.AsyncClient(base_url=b.base_url, headers=headers) as http:
                created = await http.post(
                    "/api/v1/portfolios", json={"key": new_key("PF"), "name": "Far"}
                )
                assert created.status_code == 201, created.text
                body = {"key": new_key("PR"), "name": "Far", "portfolio_id": created.json()["id"]}
                made = await http.post("/api/v1/projects", json=body)
                assert made.status_code == 201, made.text
                project = made.json()
                async with live(f"ws://127.0.0.1:{a.port}/graphql") as client:
                    projects = await client.subscribe(PROJECT_CHANGED, {})
                    changes = await client.subscribe(EVENTS, {"types": ["project.updated"]})
                    # No acknowledgement of a subscribe: change again until one is heard.
                    names: list[str] = []
                    for attempt in range(10):
                        names.append(f"Far {attempt}")
                        patched = await http.patch(
                            f"/api/v1/projects/{project['id']}", json={"name": names[-1]}
                        )
                        assert patched.status_code == 200, patched.text
                        try:
                            shown = await client.next(projects, 1.5)
                            break
                        except TimeoutError:
                            continue
                    else:
                        pytest.fail("no change heard across processes")
                    assert shown["projectChanged"]["uuid"] == project["id"]
                    assert shown["projectChanged"]["name"] in names
                    change = await client.next(changes)
                    assert change["events"]["entityId"] == project["id"]
                    assert change["events"]["type"] == "project.updated"
            assert await a.stop() == 0  # a server with open subscriptions stops cleanly
    finally:
        if drop is not None:
            await drop()
