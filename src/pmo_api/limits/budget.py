"""Budgets per API key over a window: what a request spends, what is left, when it resets.

Each policy (``rest``: one per request; ``graphql``: an operation's cost) gives every
API key a quota to spend over a window of fixed length. A key's window opens with its
first charge and closes ``window`` seconds later; the next charge opens a new one. A
charge is always counted, refused or not: a client that keeps sending while over its
budget stays refused until the window closes, then starts afresh.

Where the count is kept (``counters.py``): in Redis when ``PMO_REDIS_URL`` is set, in
PostgreSQL when the service runs on it, otherwise in the process. All processes and
machines that share the Redis server or the database share the budgets.

A shared counter that fails (Redis down, PostgreSQL unreachable or slow) never takes
the API down: ``RateLimiter`` logs it once, counts in the process for the next
``FALLBACK_SECONDS`` (each process then holds a budget of its own), and tries the
shared counter again after that.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from pmo_api.core.errors import DomainError

log = logging.getLogger("pmo_api.limits")

FALLBACK_SECONDS = 5.0
"""How long a process counts on its own after its shared counter failed."""


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    """As the ``RateLimit`` headers name it: ``rest`` or ``graphql``."""
    quota: int
    """What a key may spend in one window."""
    window: int
    """The window's length, in seconds."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """A key's budget right after a charge."""

    policy: Policy
    used: int
    """Spent in the current window, this charge included."""
    reset_after: float
    """Seconds until the window closes (and the budget is whole again)."""

    @property
    def allowed(self) -> bool:
        return self.used <= self.policy.quota

    @property
    def remaining(self) -> int:
        return max(0, self.policy.quota - self.used)

    @property
    def reset_seconds(self) -> int:
        """``reset_after`` in whole seconds, rounded up: a client that waits that long
        finds the window closed."""
        return max(0, math.ceil(self.reset_after))


class Counter(Protocol):
    """Where spending is counted."""

    async def spend(self, policy: Policy, subject: str, amount: int) -> tuple[int, float]:
        """Add ``amount`` to what ``subject`` spent in its current window of ``policy``
        (opening a window if none is open); answer the total, and the seconds until
        the window closes."""
        ...

    async def close(self) -> None: ...


class ProcessCounter:
    """In this process only: SQLite (one machine, and usually one process), or while
    a shared counter is down. One entry per key and policy."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], list[float]] = {}

    async def spend(self, policy: Policy, subject: str, amount: int) -> tuple[int, float]:
        return self.spend_now(policy, subject, amount)

    def spend_now(self, policy: Policy, subject: str, amount: int) -> tuple[int, float]:
        now = time.monotonic()
        key = (policy.name, subject)
        window = self._windows.get(key)
        if window is None or window[0] <= now:
            window = self._windows[key] = [now + policy.window, 0]
        window[1] += amount
        return int(window[1]), window[0] - now

    async def close(self) -> None:
        self._windows.clear()


class RateLimited(DomainError):
    """A key spent its budget: 429 with Retry-After (and the RateLimit headers)."""

    status = 429
    title = "Too many requests"


def rate_limited(verdict: Verdict) -> RateLimited:
    policy = verdict.policy
    retry = max(1, verdict.reset_seconds)
    what = "requests" if policy.name == "rest" else "query cost"
    return RateLimited(
        code="rate_limited",
        detail=f"This API key has spent its budget of {policy.quota} {what} per "
        f"{policy.window} s ({policy.name}); retry after {retry} s.",
        extra={"retry_after": retry},
    )


class _Batch:
    """Charges of one key gathered while another charge of it is on its way."""

    __slots__ = ("done", "total")

    def __init__(self, amount: int) -> None:
        self.total = amount
        self.done: asyncio.Future[tuple[int, float] | None] = (
            asyncio.get_running_loop().create_future()
        )
        """The count after the whole batch, and the seconds to the reset; None when the
        batch was not counted by the shared counter (its members count in the process)."""


def _resolve(batch: _Batch, outcome: tuple[int, float] | None) -> None:
    if not batch.done.done():
        batch.done.set_result(outcome)


class RateLimiter:
    """The policies of a deployment and the counter that keeps them (see the module's
    docstring).

    A shared counter is asked at most once at a time per key and policy: the charges
    that come while one is on its way are gathered and sent together when it returns
    (one ``INCRBY`` or upsert of their sum), each answered the count it would have had
    if sent alone. A key making many requests at once (a script, a UI's backend, the
    benchmark) costs a round trip per batch rather than per request."""

    def __init__(self, rest: Policy, graphql: Policy, counter: Counter, where: str) -> None:
        self.rest = rest
        self.graphql = graphql
        self.counter = counter
        self.where = where
        """Where the budgets are counted: ``redis``, ``postgresql`` or ``process``."""
        self._shared = not isinstance(counter, ProcessCounter)
        self._local = counter if isinstance(counter, ProcessCounter) else ProcessCounter()
        self._shared_again_at = 0.0
        self._sending: dict[tuple[str, str], _Batch] = {}
        self._gathering: dict[tuple[str, str], _Batch] = {}

    async def spend(self, policy: Policy, subject: str, amount: int) -> Verdict:
        if not self._shared:
            return Verdict(policy, *self._local.spend_now(policy, subject, amount))
        if self._shared_again_at:
            if time.monotonic() < self._shared_again_at:
                return Verdict(policy, *self._local.spend_now(policy, subject, amount))
            self._shared_again_at = 0.0
        key = (policy.name, subject)
        gathering = self._gathering.get(key)
        if gathering is not None:  # join the batch that goes when the one on its way is back
            before = gathering.total
            gathering.total += amount
            outcome = await asyncio.shield(gathering.done)
            if outcome is None:
                return Verdict(policy, *self._local.spend_now(policy, subject, amount))
            used, reset_after = outcome
            return Verdict(policy, used - gathering.total + before + amount, reset_after)
        batch = _Batch(amount)
        on_its_way = self._sending.get(key)
        try:
            if on_its_way is not None:  # gather the charges that come meanwhile, then go
                self._gathering[key] = batch
                try:
                    await asyncio.shield(on_its_way.done)
                finally:
                    del self._gathering[key]
            self._sending[key] = batch
            # (the one before failed: no second wait for a counter that is down)
            failed = self._shared_again_at
            outcome = None if failed else await self._send(policy, subject, batch.total)
        except BaseException:
            _resolve(batch, None)  # cancelled: the gathered charges count in the process
            raise
        finally:
            if self._sending.get(key) is batch:
                del self._sending[key]
        _resolve(batch, outcome)
        if outcome is None:
            return Verdict(policy, *self._local.spend_now(policy, subject, amount))
        used, reset_after = outcome
        return Verdict(policy, used - batch.total + amount, reset_after)

    async def _send(self, policy: Policy, subject: str, amount: int) -> tuple[int, float] | None:
        """The shared counter's answer; None (and a while in the process) if it failed."""
        try:
            return await self.counter.spend(policy, subject, amount)
        except Exception as error:  # any failure of the shared counter: fail open
            if not self._shared_again_at:
                log.warning(
                    "rate limits: the %s counter failed (%s: %s); counting in this process "
                    "for %.0f s",
                    self.where,
                    type(error).__name__,
                    error,
                    FALLBACK_SECONDS,
                )
            self._shared_again_at = time.monotonic() + FALLBACK_SECONDS
            return None

    async def close(self) -> None:
        await self.counter.close()
