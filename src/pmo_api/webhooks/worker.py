"""The delivery worker: the dispatcher and the sender in one loop.

It runs inside ``pmo-api serve`` (unless ``PMO_WEBHOOK_WORKER=false``) and alone as
``pmo-api worker``; any number may run on one PostgreSQL (see ``dispatch`` and
``delivery`` for why nothing is made or sent twice); on SQLite, one at a time
(``sole_worker``). Each turn: fan out
the outbox, then send what is due, each in a unit of work of its own; when there was
nothing to do it sleeps ``poll`` seconds, or less when woken (a request of this
process recorded an event). Deliveries older than 30 days are pruned once an hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import delete, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from pmo_api import telemetry
from pmo_api.core.context import utcnow
from pmo_api.db.transaction import unit_of_work
from pmo_api.events.live import LiveHub
from pmo_api.events.models import OutboxEntry
from pmo_api.events.service import RECORDED
from pmo_api.settings import Settings
from pmo_api.webhooks import delivery, dispatch
from pmo_api.webhooks.dispatch import Dispatched
from pmo_api.webhooks.models import DeliveryStatus, WebhookDelivery

log = logging.getLogger("pmo_api.webhooks")

KEPT = timedelta(days=30)
PRUNE_EVERY = timedelta(hours=1)
ERROR_PAUSE_SECONDS = 1.0
GATHER_SECONDS = 0.1
"""After a turn with less than a batch of work, how long a busy worker lets more gather
(one fan-out of many events costs about what one of a few does)."""

Publish = Callable[[Sequence[Dispatched]], Awaitable[None]]


class Worker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        poll_seconds: float = 0.5,
        batch: int = 100,
        concurrency: int = 16,
        timeout_seconds: float = 10.0,
        retry_base_seconds: float = 30.0,
        publish: Publish | None = None,
        name: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.concurrency = concurrency
        self.timeout_seconds = timeout_seconds
        self.retry_base_seconds = retry_base_seconds
        self.publish = publish
        self.name = name or f"worker-{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        self._pruned_at = utcnow() - PRUNE_EVERY
        self.sent = 0
        self._claimed_some = True
        self._next_claim = 0.0

    @classmethod
    def from_settings(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        publish: Publish | None = None,
        name: str | None = None,
    ) -> Worker:
        return cls(
            sessions,
            poll_seconds=settings.webhook_poll_seconds,
            concurrency=settings.webhook_concurrency,
            timeout_seconds=settings.webhook_timeout_seconds,
            retry_base_seconds=settings.webhook_retry_seconds,
            publish=publish,
            name=name,
        )

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Turn until cancelled; a failing turn is logged and retried after a pause. On
        SQLite only one worker turns (``sole_worker``); the others wait their turn."""
        async with sole_worker(self.sessions), self._client() as client:
            while True:
                try:
                    busy = await self.turn(client)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("webhook worker turn failed", extra={"worker": self.name})
                    # The database may be down: look again in a while, not at once.
                    await asyncio.sleep(max(self.poll_seconds, ERROR_PAUSE_SECONDS))
                    continue
                if busy is None:  # nothing to do: until woken, or the next poll
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                    self._wake.clear()
                elif busy is False:  # some work, less than a batch: let more gather
                    await asyncio.sleep(min(self.poll_seconds, GATHER_SECONDS))

    async def drain(self) -> int:
        """Turn until nothing is left to dispatch or due to send; the attempts made."""
        async with sole_worker(self.sessions), self._client() as client:
            while await self.turn(client, always_claim=True) is not None:
                pass
        return self.sent

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=self.timeout_seconds,
            limits=httpx.Limits(max_connections=self.concurrency * 2),
        )

    async def turn(self, client: httpx.AsyncClient, *, always_claim: bool = False) -> bool | None:
        """One fan-out and one batch of sends: None when there was no work, True when a
        batch was full (more is waiting), False for some work.

        Deliveries are claimed when the fan-out made some, when the last claim found
        some, or once a poll interval (retries come due, other workers' fan-outs): a
        busy server with no subscriptions does not ask for nothing at every turn."""
        events, made = await self.dispatch()
        sent = 0
        clock = asyncio.get_running_loop().time()
        if always_claim or made or self._claimed_some or clock >= self._next_claim:
            sent = await self.deliver(client)
            self._claimed_some = sent > 0
            self._next_claim = clock + self.poll_seconds
        if utcnow() - self._pruned_at >= PRUNE_EVERY:
            await self.prune()
        if not events and not sent:
            return None
        return len(events) >= dispatch.BATCH or sent >= self.batch

    async def dispatch(self) -> tuple[list[Dispatched], int]:
        """One fan-out: the events dispatched and the deliveries made of them."""
        async with unit_of_work(self.sessions) as session:
            events, made = await dispatch.dispatch_once(session, utcnow())
        if events and self.publish is not None:
            try:
                await self.publish(events)
            except Exception:
                log.exception("live events not published", extra={"worker": self.name})
        return events, made

    async def deliver(self, client: httpx.AsyncClient) -> int:
        lease = timedelta(seconds=self.timeout_seconds + 60)
        async with unit_of_work(self.sessions) as session:
            claimed = await delivery.claim(session, utcnow(), self.batch, lease)
        if not claimed:
            return 0
        gate = asyncio.Semaphore(self.concurrency)

        async def one(item: delivery.Claimed) -> tuple[delivery.Claimed, delivery.Attempt]:
            async with gate:
                return item, await delivery.send(client, item, utcnow())

        results = await asyncio.gather(*(one(item) for item in claimed))
        async with unit_of_work(self.sessions) as session:
            await delivery.record(session, results, utcnow(), self.retry_base_seconds)
        self.sent += len(results)
        return len(results)

    async def prune(self) -> None:
        now = utcnow()
        async with unit_of_work(self.sessions) as session:
            await session.execute(
                delete(WebhookDelivery).where(
                    WebhookDelivery.status != DeliveryStatus.PENDING,
                    WebhookDelivery.created_at < now - KEPT,
                )
            )
        self._pruned_at = now


async def backlog(session: AsyncSession) -> tuple[int, int]:
    """The outbox's entries not yet dispatched, and the deliveries pending."""
    outbox = await session.scalar(select(func.count()).select_from(OutboxEntry))
    pending = await session.scalar(
        select(func.count())
        .select_from(WebhookDelivery)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING)
    )
    return int(outbox or 0), int(pending or 0)


def observe_backlog(outbox: int, pending: int) -> None:
    telemetry.OUTBOX_BACKLOG.set(outbox)
    telemetry.WEBHOOK_PENDING.set(pending)


SOLE_WORKER_RETRY_SECONDS = 5.0


@contextlib.asynccontextmanager
async def sole_worker(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    """On SQLite, an exclusive lock on ``<database>.worker-lock`` held while the worker
    runs: the processes serving one SQLite file (``serve --workers N``, a separate
    ``pmo-api worker``) run one worker between them, the next taking over when its
    holder stops. Nothing on PostgreSQL, where workers share the work."""
    url = sessions.kw["bind"].url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    path = Path(url.database).with_name(Path(url.database).name + ".worker-lock")
    handle = await asyncio.to_thread(open, path, "a+b")
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(SOLE_WORKER_RETRY_SECONDS)
        yield
    finally:
        handle.close()  # closing the file releases the lock


def wake_on_commit(worker: Worker) -> Callable[[], None]:
    """Wake ``worker`` whenever a session of this process commits an event (its turn
    then starts at once instead of at the next poll); returns how to stop."""

    def committed(session: Session) -> None:
        if session.info.pop(RECORDED, False):
            worker.wake()

    event.listen(Session, "after_commit", committed)
    return lambda: event.remove(Session, "after_commit", committed)


async def scrape_backlog(state: telemetry.Scraped) -> None:
    """The outbox and delivery gauges, from one look at the database (a scrape hook)."""
    async with state.sessions() as session:
        observe_backlog(*await backlog(session))


telemetry.before_scrape.append(scrape_backlog)


def live_publisher(hub: LiveHub) -> Publish:
    """Hand each dispatched event to the live hub (GraphQL subscriptions, every process)."""

    async def publish(events: Sequence[Dispatched]) -> None:
        await hub.publish([dispatched.event for dispatched in events])

    return publish
