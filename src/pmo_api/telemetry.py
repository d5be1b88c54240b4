"""The process's metrics, served at ``GET /metrics`` in Prometheus' text format.

* Requests: ``pmo_http_requests_total{route,method,status}`` and the latency histogram
  ``pmo_http_request_duration_seconds{route,method}``, recorded by the request
  middleware (``observe_request``). ``route`` is the route's template
  (``/api/v1/projects/{id}``), never the path a client sent: a path no route matches,
  or a request refused before routing, counts under ``route="unmatched"``.
* Database pools: ``pmo_db_pool_*{pool}`` gauges (``engine``: SQLAlchemy's pool, for
  writes and sessions; ``reads``: the reads' own asyncpg connections, PostgreSQL only),
  read from the pools when the metrics are scraped.
* Webhooks: the outbox backlog and the deliveries' outcomes and latency. The webhook
  package records them through the objects below, and sets the gauges that need a
  query from a hook it adds to ``before_scrape`` (run before each scrape, on the app's
  state).

Several server processes (``pmo-api serve --workers N``) each count on their own;
``serve`` then puts them in prometheus_client's multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``: each process writes its values to files there), so that
a scrape answered by any of them reports them all: counters and histograms are added
up, the pool gauges summed over the live processes, the backlog gauges (one figure of
one database) taken from the process that set them last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.exposition import generate_latest

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

log = logging.getLogger("pmo_api.telemetry")

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus_client's own variable, which it reads once, when it is first imported;
``pmo-api serve`` sets it for its workers (cli.py). Read here (not in settings.py) only
to know which way prometheus_client counts in this process."""

MULTIPROCESS = MULTIPROCESS_DIRECTORY in os.environ
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNMATCHED = "unmatched"
"""The one ``route`` label of every request no route matched."""

HOOK_TIMEOUT_SECONDS = 2.0
"""How long one ``before_scrape`` hook may take; past it the scrape answers without it."""
POOL_REFRESH_SECONDS = 5.0
"""With several processes, how often each one refreshes its pool gauges (a scrape
reaches one process; the others' figures are at most this old)."""

# No ``*_created`` series beside each counter and histogram: a second series per label
# set that Prometheus does not need (it sees a reset as a counter going down).
disable_created_metrics()  # type: ignore[no-untyped-call]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# --- requests ----------------------------------------------------------------------------

HTTP_REQUESTS = Counter(
    "pmo_http_requests_total",
    "Requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "pmo_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template and method.",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

_series: dict[tuple[str, str, int], tuple[Callable[[], None], Callable[[float], None]]] = {}
"""The counter's and the histogram's series of each (route, method, status), found once:
``labels()`` takes a lock and builds its key on every call."""


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request (the request middleware, once per request)."""
    if method not in _METHODS:
        method = "OTHER"  # any token is a method; the label's values stay few
    key = (route, method, status)
    series = _series.get(key)
    if series is None:
        series = _series[key] = (
            HTTP_REQUESTS.labels(route, method, str(status)).inc,
            HTTP_SECONDS.labels(route, method).observe,
        )
    series[0]()
    series[1](seconds)


# --- database pools ----------------------------------------------------------------------


class PoolUsage(NamedTuple):
    """One connection pool's figures at one moment."""

    size: int
    """Connections the pool keeps at most (overflow aside)."""
    checked_out: int
    """Connections held by the work in progress."""
    overflow: int = 0
    """Connections open beyond ``size``."""
    waiting: int = 0
    """Callers waiting for a connection (when the pool can tell)."""


_POOL_HELP = " (pool: engine = SQLAlchemy's, reads = the reads' own, PostgreSQL only)."
DB_POOL_SIZE = Gauge(
    "pmo_db_pool_size",
    "Connections a pool keeps at most, overflow aside" + _POOL_HELP,
    ["pool"],
    multiprocess_mode="livesum",
)
DB_POOL_CHECKED_OUT = Gauge(
    "pmo_db_pool_checked_out",
    "Connections in use" + _POOL_HELP,
    ["pool"],
    multiprocess_mode="livesum",
)
DB_POOL_OVERFLOW = Gauge(
    "pmo_db_pool_overflow",
    "Connections open beyond the pool's size" + _POOL_HELP,
    ["pool"],
    multiprocess_mode="livesum",
)
DB_POOL_WAITING = Gauge(
    "pmo_db_pool_waiting",
    "Callers waiting for a connection" + _POOL_HELP,
    ["pool"],
    multiprocess_mode="livesum",
)


def observe_pools(usage: Mapping[str, PoolUsage]) -> None:
    for pool, figures in usage.items():
        DB_POOL_SIZE.labels(pool).set(figures.size)
        DB_POOL_CHECKED_OUT.labels(pool).set(figures.checked_out)
        DB_POOL_OVERFLOW.labels(pool).set(figures.overflow)
        DB_POOL_WAITING.labels(pool).set(figures.waiting)


# --- webhooks (recorded by pmo_api.webhooks) ---------------------------------------------

WEBHOOK_DELIVERIES = Counter(
    "pmo_webhook_deliveries_total",
    "Webhook delivery attempts, by outcome: succeeded, failed (to be retried), gone "
    "(the endpoint answered 410: the subscription is disabled), gave_up (out of retries).",
    ["outcome"],
)
WEBHOOK_SECONDS = Histogram(
    "pmo_webhook_delivery_duration_seconds",
    "Time of one webhook delivery attempt, from sending to the endpoint's answer.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
# Figures of the database, not of a process: set (never inc/dec) from one query, by a
# before_scrape hook; with several processes, the one set last is reported.
OUTBOX_BACKLOG = Gauge(
    "pmo_outbox_backlog",
    "Events written but not yet dispatched.",
    multiprocess_mode="mostrecent",
)
WEBHOOK_PENDING = Gauge(
    "pmo_webhook_deliveries_pending",
    "Webhook deliveries waiting to be sent or retried.",
    multiprocess_mode="mostrecent",
)

# --- scraping ----------------------------------------------------------------------------


class Scraped(Protocol):
    """What a scrape is given: the running app's state (``api/state.AppState``)."""

    @property
    def engine(self) -> AsyncEngine: ...

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...

    def pool_usage(self) -> Mapping[str, PoolUsage]: ...


ScrapeHook = Callable[[Scraped], Awaitable[None]]
before_scrape: list[ScrapeHook] = []
"""Run, in turn, before each scrape: each sets the gauges that need a look at the
database. A hook that fails or takes longer than ``HOOK_TIMEOUT_SECONDS`` is logged and
the scrape answers with the rest (the figures matter most when the database does not)."""


async def scrape(state: Scraped) -> bytes:
    """The metrics, in Prometheus' text format (``CONTENT_TYPE``)."""
    observe_pools(state.pool_usage())
    for hook in before_scrape:
        try:
            async with asyncio.timeout(HOOK_TIMEOUT_SECONDS):
                await hook(state)
        except Exception:
            log.warning("a metrics hook failed", exc_info=True, extra={"hook": _name(hook)})
    if not MULTIPROCESS:
        return generate_latest(REGISTRY)
    _forget_dead_processes()
    return generate_latest(_shared_registry())


def _name(hook: ScrapeHook) -> str:
    return f"{getattr(hook, '__module__', '?')}.{getattr(hook, '__qualname__', repr(hook))}"


_shared: CollectorRegistry | None = None


def _shared_registry() -> CollectorRegistry:
    """Every process's values, read from their files at each collection."""
    global _shared
    if _shared is None:
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        _shared = registry
    return _shared


_LIVE_FILE = re.compile(r"^gauge_live[a-z]+_(\d+)\.db$")


def _forget_dead_processes() -> None:
    """Drop the live gauges of processes that are gone without saying so (a worker
    killed, then replaced by uvicorn's supervisor): their pool figures would be added
    to the living ones' forever. Their counters stay: what they counted happened."""
    directory = os.environ.get(MULTIPROCESS_DIRECTORY)
    if not directory:
        return
    for path in Path(directory).iterdir():
        match = _LIVE_FILE.match(path.name)
        if match is None:
            continue
        pid = int(match.group(1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            _mark_dead(pid, directory)
        except PermissionError:  # alive, someone else's
            pass


async def keep_pools_fresh(state: Scraped) -> None:
    """With several processes: refresh this process's pool gauges every
    ``POOL_REFRESH_SECONDS`` (the scrape refreshes only those of the process it reaches)."""
    while True:
        observe_pools(state.pool_usage())
        await asyncio.sleep(POOL_REFRESH_SECONDS)


def process_stopped() -> None:
    """With several processes: this one serves no more; its live gauges go."""
    directory = os.environ.get(MULTIPROCESS_DIRECTORY)
    if MULTIPROCESS and directory:
        with contextlib.suppress(OSError):
            _mark_dead(os.getpid(), directory)


def _mark_dead(pid: int, directory: str) -> None:
    prometheus_multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
