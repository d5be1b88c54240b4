"""Rate limits per API key (limits/, api/ratelimit.py), with each counter the service
can keep them in: the process (SQLite), PostgreSQL and Redis.

A burst over the budget is answered 429 problem+json with Retry-After and the RateLimit
headers; other keys keep their own budgets; once the window has closed the key works
again; GraphQL spends a query's cost from a budget of its own, before the query runs;
and two server processes on one database share one budget, through Redis or through
PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import redis.asyncio as redis

from pmo_api.db import migrate
from pmo_api.limits.budget import Policy, RateLimiter
from tests.conftest import ADMIN_KEY, BACKENDS, Api, start_api
from tests.faults.harness import Service, fresh_database, serving

REDIS_URL = os.environ.get("PMO_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
REQUESTS, COST, WINDOW = 5, 100, 2
PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance", "code", "request_id"}
BUDGET = re.compile(r'^"(rest|graphql)";r=(\d+);t=(\d+)$')
PAGE = "{ projects(first: 10) { nodes { key } } }"
PAGE_COST = 1 + 10 * 2


async def redis_or_skip() -> str:
    """The test Redis server's URL; skipped when none answers (CI starts one: fails)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (OSError, redis.RedisError) as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis not reachable at {REDIS_URL} ({error}); CI starts it")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: Redis tests skipped")
    finally:
        await client.aclose()
    return REDIS_URL


COUNTERS = [
    pytest.param(("sqlite", False), id="process"),
    pytest.param(
        ("postgresql", False),
        id="postgresql",
        marks=pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL not tested"),
    ),
    pytest.param(("sqlite", True), id="redis"),
]


@pytest_asyncio.fixture(params=COUNTERS)
async def limited(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    """An API whose keys may make 5 REST requests and spend a GraphQL cost of 100 per
    2-second window; with two viewer keys that have not been used yet."""
    backend, with_redis = request.param
    settings: dict[str, Any] = {
        "rate_limit_rest_requests": REQUESTS,
        "rate_limit_graphql_cost": COST,
        "rate_limit_window_seconds": WINDOW,
    }
    if with_redis:
        settings["redis_url"] = await redis_or_skip()
    api, stop = await start_api(backend, tmp_path, **settings)
    expected = {"sqlite": "process", "postgresql": "postgresql"}[backend]
    assert api.app.state.pmo.limits.where == ("redis" if with_redis else expected)
    for name in ("viewer", "other"):
        created = await api.post("/api/v1/api-keys", json={"name": name, "role": "viewer"})
        assert created.status_code == 201, created.text
        api.keys[name] = created.json()["secret"]
    try:
        yield api
    finally:
        await stop()


def budget(response: httpx.Response) -> tuple[str, int, int]:
    """The RateLimit header: policy, remaining, seconds to the reset."""
    found = BUDGET.match(response.headers["ratelimit"])
    assert found is not None, response.headers["ratelimit"]
    return found[1], int(found[2]), int(found[3])


async def closed_window(response: httpx.Response) -> None:
    """Wait until the window of the budget ``response`` reported has closed."""
    await asyncio.sleep(budget(response)[2] + 0.1)


def assert_rate_limited(response: httpx.Response, policy: str, quota: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS
    assert (body["status"], body["code"], body["title"]) == (
        429,
        "rate_limited",
        "Too many requests",
    )
    assert body["request_id"] == response.headers["x-request-id"]
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= WINDOW
    assert response.headers["ratelimit-policy"] == f'"{policy}";q={quota};w={WINDOW}'
    assert budget(response)[:2] == (policy, 0)
    assert budget(response)[2] <= retry_after


async def test_a_burst_over_the_budget_is_refused_until_the_window_closes(limited: Api) -> None:
    answers = [await limited.get("/api/v1/projects", "viewer") for _ in range(REQUESTS)]
    assert [a.status_code for a in answers] == [200] * REQUESTS
    assert [budget(a)[1] for a in answers] == [4, 3, 2, 1, 0]
    assert {a.headers["ratelimit-policy"] for a in answers} == {f'"rest";q={REQUESTS};w={WINDOW}'}

    refused = await limited.get("/api/v1/projects", "viewer")
    assert_rate_limited(refused, "rest", REQUESTS)
    # before the route runs: a write is refused just the same, and writes nothing
    before = await limited.table_counts()
    write = await limited.post("/api/v1/people", "viewer", json={"name": "X", "email": "x@x.io"})
    assert_rate_limited(write, "rest", REQUESTS)
    assert await limited.table_counts() == before

    # another key has a budget of its own
    other = await limited.get("/api/v1/projects", "other")
    assert other.status_code == 200
    assert budget(other)[:2] == ("rest", REQUESTS - 1)

    await asyncio.sleep(int(refused.headers["retry-after"]) + 0.1)
    again = await limited.get("/api/v1/projects", "viewer")
    assert again.status_code == 200, again.text
    assert budget(again)[:2] == ("rest", REQUESTS - 1)


async def test_every_answer_to_a_known_key_states_its_budget(limited: Api) -> None:
    missing = await limited.get("/api/v1/projects/NOPE-1", "viewer")
    assert missing.status_code == 404
    invalid = await limited.get("/api/v1/projects?limit=0", "viewer")
    assert invalid.status_code == 422
    assert [budget(missing)[1], budget(invalid)[1]] == [4, 3]
    # no key (401) or no authentication at all: nothing is charged, nothing stated
    for response in (
        await limited.http.get("/api/v1/projects"),
        await limited.http.get("/api/v1/projects", headers={"Authorization": "Bearer nope"}),
        await limited.http.get("/healthz"),
    ):
        assert "ratelimit" not in response.headers
        assert "ratelimit-policy" not in response.headers


async def test_graphql_spends_the_query_cost_before_it_runs(limited: Api) -> None:
    for spent in range(1, COST // PAGE_COST + 1):  # 4 pages of 21: 84
        answer = await limited.post("/graphql", "viewer", json={"query": PAGE})
        assert answer.status_code == 200, answer.text
        assert answer.json()["extensions"]["cost"]["requested"] == PAGE_COST
        assert answer.headers["ratelimit-policy"] == f'"graphql";q={COST};w={WINDOW}'
        assert budget(answer)[:2] == ("graphql", COST - spent * PAGE_COST)
    # a query refused before its cost is known costs 1
    syntax = await limited.post("/graphql", "viewer", json={"query": "{ projects {"})
    assert syntax.status_code == 200
    assert budget(syntax)[:2] == ("graphql", COST - 4 * PAGE_COST - 1)

    # 15 left: a query of 21 is refused, and nothing of it runs
    with limited.count_statements(cold_auth=False) as counter:
        refused = await limited.post("/graphql", "viewer", json={"query": PAGE})
    assert_rate_limited(refused, "graphql", COST)
    assert refused.json()["instance"] == "/graphql"
    assert counter.statements == []

    # the REST budget is another one
    rest = await limited.get("/api/v1/projects", "viewer")
    assert rest.status_code == 200
    assert budget(rest)[:2] == ("rest", REQUESTS - 1)

    await closed_window(refused)
    again = await limited.post("/graphql", "viewer", json={"query": PAGE})
    assert again.status_code == 200
    assert budget(again)[:2] == ("graphql", COST - PAGE_COST)


async def test_rate_limits_can_be_turned_off(backend: str, tmp_path: Path) -> None:
    api, stop = await start_api(backend, tmp_path, rate_limits=False, rate_limit_rest_requests=1)
    try:
        assert api.app.state.pmo.limits is None
        for response in [
            *[await api.get("/api/v1/projects") for _ in range(3)],
            *[await api.post("/graphql", json={"query": PAGE}) for _ in range(3)],
        ]:
            assert response.status_code == 200
            assert "ratelimit" not in response.headers
            assert "ratelimit-policy" not in response.headers
    finally:
        await stop()


async def test_an_unreachable_counter_fails_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis down: the API answers as usual, counting in the process (one log line)."""
    api, stop = await start_api(
        "sqlite", tmp_path, redis_url="redis://127.0.0.1:1/0", rate_limit_rest_requests=3
    )
    limits_log = logging.getLogger("pmo_api.limits")
    limits_log.addHandler(caplog.handler)  # the app's logging took the root's handlers
    try:
        answers = [await api.get("/api/v1/projects") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [budget(a)[1] for a in answers] == [2, 1, 0, 0]
        warnings = [r.getMessage() for r in caplog.records if r.name == "pmo_api.limits"]
        assert len(warnings) == 1
        assert warnings[0].startswith("rate limits: the redis counter failed (ConnectionError")
    finally:
        limits_log.removeHandler(caplog.handler)
        await stop()


# --- one round trip at a time per key -----------------------------------------------------


class HeldCounter:
    """A shared counter whose answers wait until the test lets them go."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[int] = []
        self.used: dict[str, int] = {}
        self.fail = fail
        self.go = asyncio.Event()

    async def spend(self, policy: Policy, subject: str, amount: int) -> tuple[int, float]:
        self.sent.append(amount)
        await self.go.wait()
        if self.fail:
            raise ConnectionError("gone")
        self.used[subject] = self.used.get(subject, 0) + amount
        return self.used[subject], 30.0

    async def close(self) -> None:
        pass


def held_limiter(counter: HeldCounter) -> RateLimiter:
    return RateLimiter(Policy("rest", 4, 60), Policy("graphql", 100, 60), counter, "redis")


async def test_charges_made_meanwhile_go_together_each_answered_its_own_count() -> None:
    counter = HeldCounter()
    limiter = held_limiter(counter)
    first = asyncio.create_task(limiter.spend(limiter.rest, "k", 1))
    await asyncio.sleep(0)  # on its way
    others = [asyncio.create_task(limiter.spend(limiter.rest, "k", 1)) for _ in range(5)]
    elsewhere = asyncio.create_task(limiter.spend(limiter.rest, "another key", 1))
    await asyncio.sleep(0)
    counter.go.set()
    verdicts = [await first, *[await task for task in others]]
    assert counter.sent == [1, 1, 5]  # the first, the other key's, then the five together
    assert [v.used for v in verdicts] == [1, 2, 3, 4, 5, 6]
    assert [v.allowed for v in verdicts] == [True] * 4 + [False] * 2  # 4 per window
    assert [v.remaining for v in verdicts] == [3, 2, 1, 0, 0, 0]
    assert (await elsewhere).used == 1


async def test_a_failed_batch_counts_in_the_process(caplog: pytest.LogCaptureFixture) -> None:
    counter = HeldCounter(fail=True)
    limiter = held_limiter(counter)
    tasks = [asyncio.create_task(limiter.spend(limiter.rest, "k", 1)) for _ in range(3)]
    await asyncio.sleep(0)
    counter.go.set()
    verdicts = [await task for task in tasks]
    assert sorted(v.used for v in verdicts) == [1, 2, 3]
    assert counter.sent == [1]  # the two gathered meanwhile were not sent to a failed counter
    # for a while the process counts on its own, without asking
    assert (await limiter.spend(limiter.rest, "k", 1)).used == 4
    assert counter.sent == [1]
    assert [r.getMessage()[:38] for r in caplog.records if r.name == "pmo_api.limits"] == [
        "rate limits: the redis counter failed "
    ]


async def test_a_cancelled_charge_leaves_no_one_waiting() -> None:
    counter = HeldCounter()
    limiter = held_limiter(counter)
    first = asyncio.create_task(limiter.spend(limiter.rest, "k", 1))
    await asyncio.sleep(0)
    leader = asyncio.create_task(limiter.spend(limiter.rest, "k", 1))
    await asyncio.sleep(0)
    member = asyncio.create_task(limiter.spend(limiter.rest, "k", 1))
    await asyncio.sleep(0)
    leader.cancel()  # its client went away while it gathered
    await asyncio.sleep(0)
    assert (await member).used == 1  # counted in the process, not lost in a wait
    counter.go.set()
    assert (await first).used == 1
    assert leader.cancelled()
    assert (await limiter.spend(limiter.rest, "k", 1)).used == 2  # the shared count goes on


# --- several server processes ---------------------------------------------------------------


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL not tested")
@pytest.mark.parametrize("counter", ["postgresql", "redis"])
async def test_two_server_processes_share_one_budget(counter: str, tmp_path: Path) -> None:
    env = {"PMO_RATE_LIMIT_REST_REQUESTS": "6", "PMO_RATE_LIMIT_WINDOW_SECONDS": "600"}
    if counter == "redis":
        env["PMO_REDIS_URL"] = await redis_or_skip()
    async with fresh_database("postgresql", tmp_path) as database:
        await asyncio.to_thread(migrate.upgrade, database.url)
        first, second = (Service(database.url, tmp_path, env=env) for _ in range(2))
        async with contextlib.AsyncExitStack() as running:
            await asyncio.gather(
                *(running.enter_async_context(serving(s)) for s in (first, second))
            )
            headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
            one = await running.enter_async_context(
                httpx.AsyncClient(base_url=first.base_url, headers=headers)
            )
            two = await running.enter_async_context(
                httpx.AsyncClient(base_url=second.base_url, headers=headers)
            )
            answers = [await client.get("/api/v1/projects") for client in [one, two] * 4]
    assert [a.status_code for a in answers] == [200] * 6 + [429] * 2
    assert [budget(a)[1] for a in answers] == [5, 4, 3, 2, 1, 0, 0, 0]
    assert {a.headers["ratelimit-policy"] for a in answers} == {'"rest";q=6;w=600'}
