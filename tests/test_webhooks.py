"""Webhooks: the outbox, delivery to a real local receiver, signatures, retries and order,
410, redelivery, the SSRF guard, and two workers on one PostgreSQL sending each event
exactly once."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
import pytest_asyncio
from sqlalchemy import func, insert, select, text, update

from pmo_api import cli
from pmo_api.core.context import SYSTEM, ServiceContext
from pmo_api.db.engine import make_engine, make_sessionmaker
from pmo_api.db.transaction import unit_of_work
from pmo_api.events.models import AuditEvent, OutboxEntry
from pmo_api.portfolios.declaration import PORTFOLIOS
from pmo_api.resources import service as resources
from pmo_api.settings import Settings
from pmo_api.webhooks import guard
from pmo_api.webhooks.delivery import claim as delivery_claim
from pmo_api.webhooks.models import WebhookDelivery
from pmo_api.webhooks.worker import Worker
from tests.conftest import TEST_RECEIVER_HOST, Api, _add_role_keys, new_key, start_api

FAST = {
    "webhook_poll_seconds": 0.05,
    "webhook_retry_seconds": 0.05,
    "webhook_timeout_seconds": 5,
}


# -- a real receiver --------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        payload: dict[str, Any] = orjson.loads(self.body)
        return payload


@dataclass
class Receiver:
    """An HTTP server on a loopback address that keeps what it is sent and answers ``answer()``."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    answer: Callable[[int], int] = lambda _n: 204
    lock: threading.Lock = field(default_factory=threading.Lock)

    def succeeded(self) -> list[Received]:
        """What was received and answered 2xx (the answers are kept beside)."""
        return [r for r in self.received if 200 <= int(r.headers["x-answered"]) < 300]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with state.lock:
                status = state.answer(len(state.received))
                headers = {k.lower(): v for k, v in self.headers.items()}
                headers["x-answered"] = str(status)
                headers["x-path"] = self.path
                state.received.append(Received(headers, body))
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("location", "http://127.0.0.1:9/elsewhere")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer((TEST_RECEIVER_HOST, 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://{TEST_RECEIVER_HOST}:{server.server_address[1]}/hooks"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest_asyncio.fixture
async def served(backend: str, tmp_path: Path) -> AsyncIterator[Api]:
    """An API on a database of its own with its delivery worker running, fast."""
    api, stop = await start_api(backend, tmp_path, webhook_worker=True, **FAST)
    await _add_role_keys(api)
    try:
        yield api
    finally:
        await stop()


async def until(check: Callable[[], Any], seconds: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


def verify(secret: str, received: Received) -> bool:
    """The receiver's check, written from the Standard Webhooks spec (not the server's
    code): HMAC-SHA256 over "id.timestamp.body" with the secret's base64-decoded bytes,
    any of the space-separated v1 signatures."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{received.headers['webhook-id']}.{received.headers['webhook-timestamp']}."
    expected = base64.b64encode(
        hmac.new(key, signed.encode() + received.body, hashlib.sha256).digest()
    ).decode()
    offered = [s.split(",", 1)[1] for s in received.headers["webhook-signature"].split(" ")]
    return any(hmac.compare_digest(expected, s) for s in offered)


async def subscribe(api: Api, url: str, types: list[str], **fields: Any) -> dict[str, Any]:
    response = await api.post("/api/v1/webhooks", json={"url": url, "event_types": types, **fields})
    assert response.status_code == 201, response.text
    hook: dict[str, Any] = response.json()
    assert hook["secret"].startswith("whsec_")
    return hook


# -- signatures ---------------------------------------------------------------------------


def test_signature_matches_the_standard_webhooks_test_vector() -> None:
    from pmo_api.webhooks.signing import headers

    # The specification's published example (standardwebhooks' own test suite).
    signed = headers(
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
        ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )
    assert signed["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


# -- the outbox ------------------------------------------------------------------------------


async def test_every_event_gets_its_outbox_entry_in_its_transaction(api: Api) -> None:
    """Each recorded event, whichever way it was written (the one-statement create on
    PostgreSQL, the session elsewhere), has one outbox entry; the shared app runs no
    worker, so the outbox still holds them."""
    portfolio = await api.make_portfolio()
    project = await api.make_project(portfolio["id"])
    response = await api.patch(
        f"/api/v1/projects/{project['id']}",
        json={"name": "Renamed"},
        headers={"If-Match": f'"{project["version"]}"'},
    )
    assert response.status_code == 200, response.text
    async with api.app.state.pmo.engine.connect() as connection:
        found = await connection.execute(
            select(AuditEvent.action, AuditEvent.entity_version, OutboxEntry.seq)
            .join(OutboxEntry, OutboxEntry.event_id == AuditEvent.id, isouter=True)
            .where(AuditEvent.entity_id.in_([uuid.UUID(portfolio["id"]), uuid.UUID(project["id"])]))
            .order_by(AuditEvent.occurred_at)
        )
        rows = found.all()
    assert [(r.action, r.entity_version) for r in rows] == [
        ("portfolio.created", 1),
        ("project.created", 1),
        ("project.updated", 2),
    ]
    assert all(r.seq is not None for r in rows)
    assert rows[0].seq < rows[1].seq < rows[2].seq


async def test_a_change_rolled_back_sends_nothing(served: Api, receiver: Receiver) -> None:
    await subscribe(served, receiver.url, ["portfolio.created"])
    state = served.app.state.pmo
    mine = (
        select(func.count())
        .select_from(OutboxEntry)
        .join(AuditEvent, AuditEvent.id == OutboxEntry.event_id)
        .where(AuditEvent.request_id == "rolled-back")
    )

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with unit_of_work(state.sessions) as session:
            ctx = ServiceContext(session, SYSTEM, request_id="rolled-back")
            body = PORTFOLIOS.create.model_validate({"key": new_key("RB"), "name": "Never"})
            await resources.create(ctx, PORTFOLIOS, body)
            await session.flush()
            assert await session.scalar(mine) == 1  # in the outbox, in this transaction
            raise Boom
    # A change that commits is sent; the rolled-back one never is.
    kept = await served.make_portfolio(name="Kept")
    await until(lambda: any(r.json["data"]["id"] == kept["id"] for r in receiver.received))
    await asyncio.sleep(0.3)
    assert [r.json["type"] for r in receiver.received] == ["portfolio.created"]
    assert await _count(served, AuditEvent, AuditEvent.request_id == "rolled-back") == 0


async def settled(api: Api, hook_id: str) -> list[dict[str, Any]]:
    """The subscription's deliveries once none is pending (the worker recorded them)."""
    for _ in range(200):
        response = await api.get(f"/api/v1/webhooks/{hook_id}/deliveries")
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        if all(i["status"] != "pending" for i in items):
            return items
        await asyncio.sleep(0.05)
    raise AssertionError("deliveries still pending")


async def _count(api: Api, model: Any, *where: Any) -> int:
    async with api.app.state.pmo.engine.connect() as connection:
        return int(
            await connection.scalar(select(func.count()).select_from(model).where(*where)) or 0
        )


# -- delivery -----------------------------------------------------------------------------


async def test_each_event_reaches_each_subscription_once_signed(
    served: Api, receiver: Receiver
) -> None:
    projects_only = await subscribe(
        served, receiver.url + "?projects", ["project.created", "project.updated"]
    )
    everything = await subscribe(served, receiver.url + "?all", ["*"])
    portfolio = await served.make_portfolio()
    project = await served.make_project(portfolio["id"])
    updated = await served.patch(
        f"/api/v1/projects/{project['id']}",
        json={"description": "Signed and delivered"},
        headers={"If-Match": f'"{project["version"]}"'},
    )
    assert updated.status_code == 200
    await until(lambda: len(receiver.received) >= 5)
    await asyncio.sleep(0.5)  # and nothing more comes
    by_path: dict[str, list[Received]] = {}
    for r in receiver.received:
        by_path.setdefault(r.headers["x-path"], []).append(r)
    # Records' events go out side by side; one record's in order.
    assert sorted(r.json["type"] for r in by_path["/hooks?all"]) == [
        "portfolio.created",
        "project.created",
        "project.updated",
    ]
    assert [r.json["type"] for r in by_path["/hooks?projects"]] == [
        "project.created",
        "project.updated",
    ]
    assert all(verify(everything["secret"], r) for r in by_path["/hooks?all"])
    assert all(verify(projects_only["secret"], r) for r in by_path["/hooks?projects"])
    assert not verify(everything["secret"], by_path["/hooks?projects"][0])
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(set(ids)) == len(ids) == 5
    last = by_path["/hooks?projects"][-1]
    assert last.headers["content-type"] == "application/json"
    assert abs(int(last.headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 60
    payload = last.json
    assert set(payload) == {"type", "timestamp", "data"}
    assert payload["data"]["id"] == project["id"]
    assert payload["data"]["version"] == 2
    assert payload["data"]["portfolio_id"] == portfolio["id"]
    assert payload["data"]["changes"]["description"]["after"] == "Signed and delivered"
    # The delivery log: each attempt with its status and latency.
    items = await settled(served, projects_only["id"])
    assert sorted(i["event_type"] for i in items) == ["project.created", "project.updated"]
    first = next(i for i in items if i["event_type"] == "project.updated")
    assert first["status"] == "succeeded" and first["response_status"] == 204
    assert first["attempts"][0]["status_code"] == 204
    assert first["attempts"][0]["latency_ms"] >= 0
    assert f"msg_{uuid.UUID(first['id']).hex}" in ids


async def test_portfolio_filter_covers_sub_portfolios(served: Api, receiver: Receiver) -> None:
    top = await served.make_portfolio()
    below = await served.make_portfolio(parent_id=top["id"])
    other = await served.make_portfolio()
    await subscribe(served, receiver.url, ["project.created"], portfolio_id=top["id"])
    inside = await served.make_project(below["id"])
    await served.make_project(other["id"])
    await until(lambda: len(receiver.received) >= 1)
    await asyncio.sleep(0.4)
    assert [r.json["data"]["id"] for r in receiver.received] == [inside["id"]]


async def test_a_receiver_down_for_a_while_gets_every_event_in_order(
    served: Api, receiver: Receiver
) -> None:
    receiver.answer = lambda n: 503 if n < 6 else 200
    hook = await subscribe(served, receiver.url, ["project.updated"])
    project = await served.make_project()
    version = project["version"]
    for n in range(4):
        response = await served.patch(
            f"/api/v1/projects/{project['id']}",
            json={"description": f"step {n}"},
            headers={"If-Match": f'"{version}"'},
        )
        assert response.status_code == 200, response.text
        version = response.json()["version"]
    await until(lambda: len(receiver.succeeded()) >= 4)
    await asyncio.sleep(0.3)
    delivered = receiver.succeeded()
    assert [r.json["data"]["version"] for r in delivered] == [2, 3, 4, 5]
    assert len({r.headers["webhook-id"] for r in delivered}) == 4
    # Retried under the same webhook-id: the failed attempts' ids are the delivered ones'.
    failed_ids = {r.headers["webhook-id"] for r in receiver.received[:6]}
    assert failed_ids <= {r.headers["webhook-id"] for r in delivered}
    listed = await settled(served, hook["id"])
    assert sum(i["attempt_count"] for i in listed) == len(receiver.received)
    assert all(i["status"] == "succeeded" for i in listed)


async def test_a_redirect_is_not_followed_but_retried(served: Api, receiver: Receiver) -> None:
    receiver.answer = lambda n: 307 if n == 0 else 200
    hook = await subscribe(served, receiver.url, ["portfolio.created"])
    await served.make_portfolio()
    await until(lambda: len(receiver.succeeded()) == 1)
    assert all(r.headers["x-path"] == "/hooks" for r in receiver.received)
    (item,) = await settled(served, hook["id"])
    assert [a["status_code"] for a in item["attempts"]] == [307, 200]


async def test_410_turns_the_subscription_off(served: Api, receiver: Receiver) -> None:
    receiver.answer = lambda _n: 410
    hook = await subscribe(served, receiver.url, ["portfolio.created"])
    await served.make_portfolio()
    await until(lambda: len(receiver.received) == 1)

    async def turned_off() -> dict[str, Any]:
        for _ in range(100):
            found = (await served.get(f"/api/v1/webhooks/{hook['id']}")).json()
            if not found["active"]:
                return dict(found)
            await asyncio.sleep(0.05)
        raise AssertionError("still active")

    found = await turned_off()
    assert "410" in found["disabled_reason"]
    await served.make_portfolio()
    await asyncio.sleep(0.4)
    assert len(receiver.received) == 1
    # Turned on again, what waited is sent.
    receiver.answer = lambda _n: 200
    response = await served.patch(
        f"/api/v1/webhooks/{hook['id']}",
        json={"active": True},
        headers={"If-Match": f'"{found["version"]}"'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["disabled_reason"] is None
    await until(lambda: len(receiver.received) == 2)


async def test_given_up_after_the_retry_window_then_redelivered(
    served: Api, receiver: Receiver
) -> None:
    receiver.answer = lambda _n: 500
    hook = await subscribe(served, receiver.url, ["portfolio.created"])
    await served.make_portfolio()
    await until(lambda: len(receiver.received) >= 2)
    # Three days later: the next failure gives it up.
    async with served.app.state.pmo.engine.begin() as connection:
        await connection.execute(
            update(WebhookDelivery).values(
                retry_until=datetime.now(UTC) - timedelta(seconds=1),
            )
        )

    async def delivery() -> dict[str, Any]:
        items = (await served.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()["items"]
        return dict(items[0])

    for _ in range(200):
        if (await delivery())["status"] == "failed":
            break
        await asyncio.sleep(0.05)
    failed = await delivery()
    assert failed["status"] == "failed" and failed["response_status"] == 500
    marked = (await served.get(f"/api/v1/webhooks/{hook['id']}")).json()
    assert marked["failing_since"] is not None
    failing = await served.get("/api/v1/webhooks", params={"failing": "true"})
    assert [h["id"] for h in failing.json()["items"]] == [hook["id"]]

    receiver.answer = lambda _n: 200
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    response = await served.post(f"/api/v1/webhooks/{hook['id']}/redeliver", json={"since": since})
    assert response.status_code == 202, response.text
    assert response.json() == {"redelivered": 1}
    await until(lambda: len(receiver.succeeded()) == 1)
    assert receiver.succeeded()[0].headers["webhook-id"] == f"msg_{uuid.UUID(failed['id']).hex}"
    for _ in range(100):
        marked = (await served.get(f"/api/v1/webhooks/{hook['id']}")).json()
        if marked["failing_since"] is None:
            break
        await asyncio.sleep(0.05)
    assert marked["failing_since"] is None


async def test_redelivery_keeps_the_webhook_id(served: Api, receiver: Receiver) -> None:
    hook = await subscribe(served, receiver.url, ["portfolio.created"])
    await served.make_portfolio()
    await until(lambda: len(receiver.received) == 1)
    (item,) = (await served.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()["items"]
    for _ in range(100):
        if item["status"] == "succeeded":
            break
        await asyncio.sleep(0.05)
        item = (await served.get(f"/api/v1/webhook-deliveries/{item['id']}")).json()
    response = await served.post(f"/api/v1/webhook-deliveries/{item['id']}/redeliver")
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"
    again = await served.post(f"/api/v1/webhook-deliveries/{item['id']}/redeliver")
    assert again.status_code in (202, 409)  # 409 delivery_pending unless already re-sent
    await until(lambda: len(receiver.received) == 2)
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    assert verify(hook["secret"], second)


async def test_ping_and_secret_rotation(served: Api, receiver: Receiver) -> None:
    hook = await subscribe(served, receiver.url, ["project.created"])
    response = await served.post(f"/api/v1/webhooks/{hook['id']}/ping")
    assert response.status_code == 202, response.text
    assert response.json()["event_type"] == "webhook.ping"
    await until(lambda: len(receiver.received) == 1)
    assert receiver.received[0].json["type"] == "webhook.ping"
    assert verify(hook["secret"], receiver.received[0])

    rotated = await served.post(
        f"/api/v1/webhooks/{hook['id']}/rotate-secret", json={"overlap_hours": 1}
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != hook["secret"] and new_secret.startswith("whsec_")
    assert rotated.json()["previous_secret_expires_at"] is not None
    shown = await served.get(f"/api/v1/webhooks/{hook['id']}")
    assert "secret" not in shown.json()
    await served.post(f"/api/v1/webhooks/{hook['id']}/ping")
    await until(lambda: len(receiver.received) == 2)
    during = receiver.received[1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert verify(new_secret, during) and verify(hook["secret"], during)

    # No overlap: only the new secret signs.
    rotated = await served.post(
        f"/api/v1/webhooks/{hook['id']}/rotate-secret", json={"overlap_hours": 0}
    )
    latest = rotated.json()["secret"]
    await served.post(f"/api/v1/webhooks/{hook['id']}/ping")
    await until(lambda: len(receiver.received) == 3)
    assert verify(latest, receiver.received[2])
    assert not verify(new_secret, receiver.received[2])
    trail = await served.get(
        "/api/v1/audit-events", params={"entity_id": hook["id"], "action": "webhook.secret_rotated"}
    )
    assert len(trail.json()["items"]) == 2
    assert new_secret not in trail.text and latest not in trail.text


async def test_webhooks_are_for_admins(api: Api) -> None:
    for role in ("pmo", "manager", "viewer"):
        assert (await api.get("/api/v1/webhooks", role)).status_code == 403
        response = await api.post(
            "/api/v1/webhooks",
            role,
            json={"url": "https://hooks.example.com/x", "event_types": ["*"]},
        )
        assert response.status_code == 403


async def test_a_boolean_is_a_boolean(api: Api) -> None:
    for active in (1, "true", "yes"):
        response = await api.post(
            "/api/v1/webhooks",
            json={"url": "http://127.0.0.2:9/x", "event_types": ["*"], "active": active},
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "active"]


async def test_unknown_event_types_are_refused(api: Api) -> None:
    before = await api.table_counts()
    response = await api.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/x", "event_types": ["project.exploded"]},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_event_type"
    assert await api.table_counts() == before
    listed = await api.get("/api/v1/event-types")
    assert listed.status_code == 200
    types = listed.json()["items"]
    for expected in (
        "project.created",
        "project.updated",
        "project.phase_changed",
        "status_report.submitted",
        "risk.raised",
        "audit.completed",
        "compliance.failed",
    ):
        assert expected in types


# -- the SSRF guard ------------------------------------------------------------------------

REFUSED = [
    "http://127.0.0.1/hook",
    "http://[::1]/hook",
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://0x7f000001/hook",
    "http://2130706433/hook",
    "http://localhost:8080/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://user:pw@example.com/hook",
    "file:///etc/passwd",
    "gopher://example.com/_hook",
    "ftp://example.com/hook",
    "https://name-that-does-not-resolve.invalid/hook",
    "https://\u00c4\u00b5{2\u00c6/hook",
]


@pytest.mark.parametrize("url", REFUSED)
async def test_private_and_odd_urls_are_refused(api: Api, url: str) -> None:
    before = await api.table_counts()
    response = await api.post("/api/v1/webhooks", json={"url": url, "event_types": ["*"]})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await api.table_counts() == before


async def test_an_allowed_host_may_be_private_and_is_checked_again_at_delivery(
    served: Api, receiver: Receiver
) -> None:
    hook = await subscribe(served, receiver.url, ["portfolio.created"])
    guard.allow([])  # as if the setting changed: the next attempt is refused, not sent
    try:
        await served.make_portfolio()

        async def attempts() -> list[dict[str, Any]]:
            items = (await served.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()
            return [a for i in items["items"] for a in i["attempts"]]

        for _ in range(100):
            if await attempts():
                break
            await asyncio.sleep(0.05)
        tried = await attempts()
        assert tried and tried[0]["outcome"] == "refused"
        assert receiver.received == []
    finally:
        guard.allow([TEST_RECEIVER_HOST])
    await until(lambda: len(receiver.received) == 1)


async def test_a_name_resolving_to_loopback_is_refused_at_delivery() -> None:
    with pytest.raises(guard.UnsafeUrl, match=r"127\.0\.0\.1|::1"):
        await guard.resolve("http://localhost/hook", guard.allowed_hosts())
    target = await guard.resolve("http://localhost/hook", {"localhost"})
    assert target.address in ("127.0.0.1", "::1")


# -- several workers on one PostgreSQL --------------------------------------------------


async def test_two_workers_send_each_of_1000_events_exactly_once(
    tmp_path: Path, receiver: Receiver
) -> None:
    api, stop = await start_api("postgresql", tmp_path, **FAST)
    try:
        hook = await subscribe(api, receiver.url, ["portfolio.updated"])
        ids = [uuid.uuid4() for _ in range(1000)]
        now = datetime.now(UTC)
        async with api.app.state.pmo.engine.begin() as connection:
            await connection.execute(
                insert(AuditEvent),
                [
                    {
                        "id": i,
                        "occurred_at": now,
                        "action": "portfolio.updated",
                        "entity_type": "portfolio",
                        "entity_id": uuid.uuid4(),
                        "entity_version": 2,
                        "actor_name": "load",
                        "actor_role": "admin",
                        "request_id": "load",
                        "changes": {},
                    }
                    for i in ids
                ],
            )
            assert (await connection.scalar(text("SELECT count(*) FROM outbox"))) >= 1000
        engines = [make_engine(Settings(database_url=api.url)) for _ in range(2)]
        workers = [
            Worker(make_sessionmaker(e), poll_seconds=0.02, batch=25, concurrency=8, name=f"w{n}")
            for n, e in enumerate(engines)
        ]
        tasks = [asyncio.create_task(w.run()) for w in workers]
        try:
            await until(
                lambda: len({r.json["data"]["event_id"] for r in receiver.received}) >= 1000, 120
            )
            await asyncio.sleep(1.0)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for e in engines:
                await e.dispose()
        events = [r.json["data"]["event_id"] for r in receiver.received]
        assert sorted(events) == sorted(str(i) for i in ids)  # each once, none twice
        messages = [r.headers["webhook-id"] for r in receiver.received]
        assert len(set(messages)) == 1000
        assert all(w.sent > 0 for w in workers), [w.sent for w in workers]
        assert all(verify(hook["secret"], r) for r in receiver.received[:20])
        pending = await _count(api, WebhookDelivery, WebhookDelivery.status == "pending")
        assert pending == 0
    finally:
        await stop()


# -- the worker on its own, and a worker that dies -------------------------------------


async def test_pmo_api_worker_sends_and_a_dead_workers_claim_is_taken_over(
    backend: str, tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, stop = await start_api(backend, tmp_path, **FAST)  # no worker in the server
    try:
        await subscribe(api, receiver.url, ["portfolio.created"])
        made = [await api.make_portfolio() for _ in range(3)]
        state = api.app.state.pmo
        # A worker fans the events out, claims the deliveries, and dies before sending.
        dead = Worker(state.sessions, name="dead")
        await dead.dispatch()
        async with unit_of_work(state.sessions) as session:
            claimed = await delivery_claim(session, datetime.now(UTC), 10, timedelta(seconds=70))
        assert len(claimed) == 3
        # `pmo-api worker` on its own: the claim still holds, nothing is sent twice.
        monkeypatch.setenv("PMO_DATABASE_URL", api.url)
        monkeypatch.setenv("PMO_AUTO_MIGRATE", "false")
        monkeypatch.setenv("PMO_WEBHOOK_ALLOW_HOSTS", TEST_RECEIVER_HOST)
        assert await asyncio.to_thread(cli.main, ["worker", "--drain"]) == 0
        assert receiver.received == []
        # Once the dead worker's claim lapses, the deliveries are due again: sent once.
        later = datetime.now(UTC) + timedelta(seconds=75)
        monkeypatch.setattr("pmo_api.webhooks.worker.utcnow", lambda: later)
        assert await asyncio.to_thread(cli.main, ["worker", "--drain"]) == 0
        assert sorted(r.json["data"]["id"] for r in receiver.received) == sorted(
            p["id"] for p in made
        )
        assert {r.headers["webhook-id"] for r in receiver.received} == {
            c.message_id for c in claimed
        }
    finally:
        await stop()


async def test_deliveries_are_kept_30_days(fresh_db: Api) -> None:
    api = fresh_db
    hook = await api.make_webhook()
    state = api.app.state.pmo
    now = datetime.now(UTC)
    rows = [
        {"age": timedelta(days=31), "status": "succeeded"},
        {"age": timedelta(days=31), "status": "pending"},  # still owed: kept
        {"age": timedelta(days=29), "status": "failed"},
    ]
    async with state.engine.begin() as connection:
        await connection.execute(
            insert(WebhookDelivery),
            [
                {
                    "id": uuid.uuid4(),
                    "webhook_id": uuid.UUID(hook["id"]),
                    "event_type": "webhook.ping",
                    "seq": 0,
                    "body": "{}",
                    "status": row["status"],
                    "attempt_count": 0,
                    "attempts": [],
                    "next_attempt_at": now + timedelta(days=1),
                    "retry_until": now,
                    "created_at": now - row["age"],
                }
                for row in rows
            ],
        )
    await Worker(state.sessions).prune()
    kept = (await api.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()["items"]
    assert sorted(item["status"] for item in kept) == ["failed", "pending"]


@pytest_asyncio.fixture
async def fresh_db(backend: str, tmp_path: Path) -> AsyncIterator[Api]:
    api, stop = await start_api(backend, tmp_path)
    try:
        yield api
    finally:
        await stop()


async def test_on_sqlite_one_worker_turns_at_a_time(tmp_path: Path, receiver: Receiver) -> None:
    api, stop = await start_api("sqlite", tmp_path, **FAST)
    try:
        await subscribe(api, receiver.url, ["portfolio.created"])
        for _ in range(3):
            await api.make_portfolio()
        engines = [make_engine(Settings(database_url=api.url)) for _ in range(2)]
        workers = [Worker(make_sessionmaker(e), poll_seconds=0.02) for e in engines]
        first = asyncio.create_task(workers[0].run())
        await until(lambda: workers[0].sent == 3)
        second = asyncio.create_task(workers[1].run())  # waits: the first holds the lock
        await api.make_portfolio()
        await until(lambda: workers[0].sent == 4)
        assert (len(receiver.received), workers[1].sent) == (4, 0)
        first.cancel()  # the first stops: the second takes over
        await asyncio.gather(first, return_exceptions=True)
        await api.make_portfolio()
        await until(lambda: workers[1].sent == 1, 20)
        assert len(receiver.received) == 5
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)
        for e in engines:
            await e.dispose()
    finally:
        await stop()
