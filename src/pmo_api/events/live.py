"""Live events: committed changes handed to the GraphQL subscriptions of every server
process (``api/graphql/subscriptions.py``).

Whoever learns that events are committed (the webhook dispatcher, after committing its
fan-out) calls ``await hub.publish(events)``; each subscription reads the events it
asked for from ``hub.subscribe(matches)``.

* **In-process** (``LiveHub``, SQLite): ``publish`` hands the events to this process's
  subscribers, and that is all (one process serves a SQLite database).
* **PostgreSQL** (``PostgresLiveHub``): ``publish`` hands them to this process's
  subscribers at once, and sends them to the other processes with
  ``pg_notify('pmo_live', ...)`` on a dedicated connection (compact JSON, batched under
  PostgreSQL's 8000-byte payload limit). Each process keeps one dedicated connection
  that LISTENs on ``pmo_live`` (checked every ``KEEPALIVE_SECONDS``, reconnected with
  backoff when it drops) and hands what the other processes sent to its subscribers;
  its own notifications it skips (each hub names itself in what it sends).

Live, not durable: an event published while a process's LISTEN connection is down, or
while a subscriber is not subscribed, never reaches it. Webhooks (the outbox, retried
until delivered) are the durable way. ``publish`` never raises for a delivery that
failed: it logs it (the events are committed and the webhooks have them).

**Slow subscribers.** Each subscription holds at most ``queue_size`` events waiting to
be read. An event that finds the queue full drops the subscription: its queue is
emptied, it leaves the hub, and reading it raises ``SubscriberTooSlow`` at once. No
publisher ever waits for a subscriber, and a subscriber's memory is bounded. (Dropping
the oldest events instead would lose changes silently; an ended subscription tells its
client to reload what it shows and subscribe again.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

import asyncpg
import orjson
from sqlalchemy.engine import make_url

log = logging.getLogger("pmo_api.live")

CHANNEL = "pmo_live"
"""The PostgreSQL notification channel every process of one database listens on."""
PAYLOAD_LIMIT = 7900
"""Bytes of one NOTIFY payload at most (PostgreSQL refuses 8000 and more)."""
KEEPALIVE_SECONDS = 15.0
"""How often the LISTEN connection is checked with a query when it has been quiet (a
connection dropped without a word, by a firewall or a failover, is found within this)."""
RECONNECT_FIRST_SECONDS = 0.25
RECONNECT_MAX_SECONDS = 15.0
"""The wait before reconnecting the LISTEN connection: doubled after each failure, up to
this, with jitter."""
DEFAULT_QUEUE_SIZE = 1000

Matches = Callable[["LiveEvent"], bool]


@dataclass(frozen=True)
class LiveEvent:
    id: uuid.UUID
    """The audit event's id."""
    type: str
    """``project.updated``, ``risk.created``, ``compliance.failed``..."""
    entity_type: str
    """``project``, ``risk``, ``portfolio``..."""
    entity_id: uuid.UUID
    project_id: uuid.UUID | None
    """The project it concerns: the entity itself for a project, a record's project."""
    portfolio_id: uuid.UUID | None
    """The portfolio it concerns: a project's portfolio, the portfolio itself for
    portfolio events."""
    occurred_at: datetime
    version: int | None
    """The entity's version after the change, when known."""

    def encoded(self) -> list[Any]:
        """The event as a compact JSON array (what a notification carries)."""
        return [
            self.id.hex,
            self.type,
            self.entity_type,
            self.entity_id.hex,
            None if self.project_id is None else self.project_id.hex,
            None if self.portfolio_id is None else self.portfolio_id.hex,
            self.occurred_at.isoformat(),
            self.version,
        ]

    @classmethod
    def decoded(cls, item: Sequence[Any]) -> LiveEvent:
        id_, type_, entity_type, entity_id, project_id, portfolio_id, occurred_at, version = item
        return cls(
            id=uuid.UUID(hex=id_),
            type=type_,
            entity_type=entity_type,
            entity_id=uuid.UUID(hex=entity_id),
            project_id=None if project_id is None else uuid.UUID(hex=project_id),
            portfolio_id=None if portfolio_id is None else uuid.UUID(hex=portfolio_id),
            occurred_at=datetime.fromisoformat(occurred_at),
            version=version,
        )


class SubscriberTooSlow(Exception):
    """The subscription fell ``queue_size`` events behind and was dropped."""


class LiveSubscription:
    """One subscriber's events, in the order they were published: an async iterator,
    made by ``LiveHub.subscribe`` and receiving from then on. ``close()`` (or leaving
    ``with``/``async with``) ends it: the iteration stops once what is queued is read."""

    __slots__ = ("_closed", "_hub", "_items", "_limit", "_matches", "_ready", "_too_slow")

    def __init__(self, hub: LiveHub, matches: Matches | None, limit: int) -> None:
        self._hub = hub
        self._matches = matches
        self._limit = limit
        self._items: deque[LiveEvent] = deque()
        self._ready = asyncio.Event()
        self._closed = False
        self._too_slow = False

    def _offer(self, event: LiveEvent) -> None:
        """Queue ``event`` if it is asked for; never waits."""
        if self._closed or (self._matches is not None and not self._matches(event)):
            return
        if len(self._items) >= self._limit:
            self._too_slow = True
            self._items.clear()
            self.close()
            return
        self._items.append(event)
        self._ready.set()

    def __aiter__(self) -> LiveSubscription:
        return self

    async def __anext__(self) -> LiveEvent:
        while not self._items:
            if self._too_slow:
                raise SubscriberTooSlow(f"more than {self._limit} events waited to be read")
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def pending(self) -> list[LiveEvent]:
        """The events queued now, taken without waiting (those that came together)."""
        taken = list(self._items)
        self._items.clear()
        return taken

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._hub._leave(self)
        self._ready.set()

    def __enter__(self) -> LiveSubscription:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    async def __aenter__(self) -> LiveSubscription:
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()


class LiveHub:
    """The subscribers of this process, and the events published to them (see the
    module's docstring). In-process only: what SQLite needs; ``for_database`` makes the
    hub a database URL needs."""

    def __init__(self, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.queue_size = queue_size
        self._subscribers: list[LiveSubscription] = []

    @staticmethod
    def for_database(
        database_url: str, *, queue_size: int = DEFAULT_QUEUE_SIZE, timeout: float = 5.0
    ) -> LiveHub:
        """The hub of the processes that share this database: PostgreSQL's reaches all of
        them; anything else is in-process."""
        url = make_url(database_url)
        if url.get_backend_name() != "postgresql":
            return LiveHub(queue_size=queue_size)
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresLiveHub(dsn, queue_size=queue_size, timeout=timeout)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def subscribe(self, matches: Matches | None = None) -> LiveSubscription:
        """A subscription to the events published from now on for which ``matches``
        (called once per event as it is published; it must be quick and must not
        raise) is true; all events when None."""
        subscription = LiveSubscription(self, matches, self.queue_size)
        self._subscribers.append(subscription)
        return subscription

    def _leave(self, subscription: LiveSubscription) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(subscription)

    def _deliver(self, events: Iterable[LiveEvent]) -> None:
        """Hand ``events`` to this process's subscribers, in order; never waits."""
        subscribers = list(self._subscribers)
        if not subscribers:
            return
        for event in events:
            for subscription in subscribers:
                subscription._offer(event)

    async def publish(self, events: Sequence[LiveEvent]) -> None:
        """Hand committed events to every subscriber (see the module's docstring)."""
        self._deliver(events)

    async def start(self, *, listen: bool = True) -> None:
        """Begin serving (the app's lifespan). ``listen``: receive the events other
        processes publish (a process that only publishes needs not)."""

    async def stop(self) -> None:
        """End every subscription (their iteration stops) and release what is held."""
        for subscription in list(self._subscribers):
            subscription.close()


def notification_payloads(origin: str, events: Iterable[LiveEvent]) -> Iterator[str]:
    """``events`` as NOTIFY payloads of at most ``PAYLOAD_LIMIT`` bytes each:
    ``{"o": origin, "e": [event, ...]}``, as many events in each as fit."""
    head = b'{"o":' + orjson.dumps(origin) + b',"e":['
    batch: list[bytes] = []
    size = len(head) + 2
    for event in events:
        item = orjson.dumps(event.encoded())
        if batch and size + len(item) + 1 > PAYLOAD_LIMIT:
            yield (head + b",".join(batch) + b"]}").decode()
            batch, size = [], len(head) + 2
        batch.append(item)
        size += len(item) + 1
    if batch:
        yield (head + b",".join(batch) + b"]}").decode()


def read_payload(payload: str) -> tuple[str, list[LiveEvent]]:
    """The origin and events of a notification (``ValueError`` when it is not one)."""
    try:
        body = orjson.loads(payload)
        return str(body["o"]), [LiveEvent.decoded(item) for item in body["e"]]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not a live events notification: {error}") from None


class PostgresLiveHub(LiveHub):
    """The hub of the processes sharing one PostgreSQL database (the module's docstring)."""

    def __init__(
        self, dsn: str, *, queue_size: int = DEFAULT_QUEUE_SIZE, timeout: float = 5.0
    ) -> None:
        super().__init__(queue_size=queue_size)
        self._dsn = dsn
        self._timeout = timeout
        self.origin = uuid.uuid4().hex
        """How this hub names itself in what it sends, so that it skips its own."""
        self._notifier: asyncpg.Connection | None = None
        self._notifying = asyncio.Lock()
        self._listener: asyncpg.Connection | None = None
        self._listening: asyncio.Task[None] | None = None
        self.listens = asyncio.Event()
        """Set while the LISTEN connection is up (tests wait for it)."""

    async def _connect(self, purpose: str) -> asyncpg.Connection:
        return await asyncpg.connect(
            self._dsn,
            timeout=self._timeout,
            command_timeout=self._timeout,
            server_settings={"application_name": f"pmo-api live {purpose}"},
        )

    # -- publishing ---------------------------------------------------------------------------

    async def publish(self, events: Sequence[LiveEvent]) -> None:
        self._deliver(events)
        if events:
            await self._notify(list(notification_payloads(self.origin, events)))

    async def _notify(self, payloads: list[str]) -> None:
        """Send the payloads on the notifying connection (made again once if it fails)."""
        async with self._notifying:
            for payload in payloads:
                for attempt in (1, 2):
                    try:
                        if self._notifier is None or self._notifier.is_closed():
                            self._notifier = await self._connect("notify")
                        await self._notifier.execute(
                            "SELECT pg_notify($1, $2)", CHANNEL, payload, timeout=self._timeout
                        )
                        break
                    except Exception as error:  # the database's or the network's: logged
                        self._drop_notifier()
                        if attempt == 2:
                            log.warning(
                                "live events not sent to the other processes: %s",
                                f"{type(error).__name__}: {error}",
                            )
                            return

    def _drop_notifier(self) -> None:
        if self._notifier is not None:
            self._notifier.terminate()
            self._notifier = None

    # -- listening ----------------------------------------------------------------------------

    def _received(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            origin, events = read_payload(payload)
        except ValueError as error:
            log.warning("%s", error)
            return
        if origin != self.origin:
            self._deliver(events)

    async def _listen(self) -> tuple[asyncpg.Connection, asyncio.Event]:
        """A new LISTEN connection, and an event set when it is lost."""
        connection = await self._connect("listen")
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(CHANNEL, self._received)
        except BaseException:
            connection.terminate()
            raise
        self._listener = connection
        self.listens.set()
        return connection, lost

    async def _keep_listening(self, first: tuple[asyncpg.Connection, asyncio.Event] | None) -> None:
        """Watch the LISTEN connection, and make it again with backoff when it is lost."""
        delay = RECONNECT_FIRST_SECONDS
        current = first
        while True:
            if current is None:
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                try:
                    current = await self._listen()
                except Exception as error:
                    delay = min(delay * 2, RECONNECT_MAX_SECONDS)
                    log.warning(
                        "live events: cannot listen (retrying in at most %.1fs): %s",
                        delay,
                        f"{type(error).__name__}: {error}",
                    )
                    continue
                log.info("live events: listening again")
            connection, lost = current
            try:
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), KEEPALIVE_SECONDS)
                    if not lost.is_set():
                        await connection.fetchval("SELECT 1", timeout=self._timeout)
                delay = RECONNECT_FIRST_SECONDS
                log.warning("live events: the listening connection was lost; reconnecting")
            except Exception as error:
                log.warning(
                    "live events: the listening connection failed; reconnecting: %s",
                    f"{type(error).__name__}: {error}",
                )
            self.listens.clear()
            self._listener = None
            connection.terminate()
            current = None

    async def start(self, *, listen: bool = True) -> None:
        """Listen (when asked), first here: once started, a process receives what the
        others publish, unless the database cannot be reached (then the hub keeps
        trying, in the background)."""
        if not listen or self._listening is not None:
            return
        first = None
        try:
            first = await self._listen()
        except Exception as error:
            log.warning(
                "live events: cannot listen yet (retrying): %s", f"{type(error).__name__}: {error}"
            )
        self._listening = asyncio.create_task(self._keep_listening(first))

    async def stop(self) -> None:
        await super().stop()
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
            self._listening = None
        for connection in (self._listener, self._notifier):
            if connection is not None and not connection.is_closed():
                try:
                    await asyncio.wait_for(connection.close(), self._timeout)
                except Exception:
                    connection.terminate()
        self._listener = self._notifier = None
        self.listens.clear()
