"""create_app(): lifespan, middleware, and both doors (REST under /api/v1, GraphQL)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from pmo_api import __version__, telemetry
from pmo_api.api import ratelimit, routing
from pmo_api.api.graphql.router import graphql_router
from pmo_api.api.middleware import CorsMiddleware, RequestMiddleware
from pmo_api.api.problems import PROBLEM_MEDIA_TYPE
from pmo_api.api.rest import audits as audits_rest
from pmo_api.api.rest import compliance as compliance_rest
from pmo_api.api.rest import errors, meta, operations, resources
from pmo_api.api.rest import exports as exports_rest
from pmo_api.api.rest import lessons as lessons_rest
from pmo_api.api.rest import metrics as metrics_rest
from pmo_api.api.rest import ranking as ranking_rest
from pmo_api.api.rest import records as records_rest
from pmo_api.api.rest import reporting as reporting_rest
from pmo_api.api.rest import schedule as schedule_rest
from pmo_api.api.rest import staffing as staffing_rest
from pmo_api.api.rest import standards as standards_rest
from pmo_api.api.rest import training as training_rest
from pmo_api.api.rest import webhooks as webhooks_rest
from pmo_api.api.rest.deps import reject_unknown_query
from pmo_api.api.state import AppState
from pmo_api.auth.cache import principals
from pmo_api.auth.service import ensure_bootstrap_key
from pmo_api.core import pagination
from pmo_api.core.context import SYSTEM, ServiceContext
from pmo_api.db import migrate
from pmo_api.db.engine import make_engine, make_read_sessionmaker, make_sessionmaker
from pmo_api.db.instance import cursor_secret
from pmo_api.db.reads import make_reads
from pmo_api.db.transaction import unit_of_work
from pmo_api.events.live import LiveHub
from pmo_api.limits.counters import make_limiter
from pmo_api.logs import configure_logging
from pmo_api.settings import Settings, get_settings
from pmo_api.standards import watch
from pmo_api.webhooks import guard
from pmo_api.webhooks.worker import Worker, live_publisher, wake_on_commit

log = logging.getLogger("pmo_api")

DESCRIPTION = """A headless Project Management Office service.

Authenticate with `Authorization: Bearer <api key>`. Lists page with `limit` and an
opaque `cursor`; writes honour `If-Match` and `Idempotency-Key`; every error is
`application/problem+json` with a stable `code`. Each API key has a budget of requests
per window: every answer to it carries `RateLimit-Policy` and `RateLimit`, and a key
over its budget is answered 429 with `Retry-After`.
"""


async def start(state: AppState) -> None:
    settings = state.settings
    principals.ttl = settings.auth_cache_seconds
    guard.allow(settings.webhook_allow_hosts)
    if settings.migrate_on_start:
        log.info("bringing the database schema to head")
        await asyncio.to_thread(migrate.upgrade, settings.database_url)
    async with unit_of_work(state.sessions) as session:
        if settings.secret_key is not None:
            pagination.configure(settings.secret_key.get_secret_value().encode())
        else:
            pagination.configure(await cursor_secret(session))
        if settings.bootstrap_admin_key is not None:
            await ensure_bootstrap_key(session, settings.bootstrap_admin_key.get_secret_value())


async def _look(state: AppState) -> None:
    """One look of the compliance watch, in a unit of work of its own."""
    async with unit_of_work(state.sessions) as session:
        await watch.look(
            ServiceContext(session, SYSTEM, request_id=f"watch-{uuid.uuid4().hex[:12]}")
        )


def served_app() -> FastAPI:
    """The app ``pmo-api serve`` runs: one per server process, which it outlives."""
    return create_app(freeze_on_start=True)


YOUNG_COLLECTION_THRESHOLD = 20_000
"""Allocations between two collections of the youngest generation (Python's default:
700), set by ``pmo-api serve`` once the app is frozen (see ``lifespan``)."""


def create_app(settings: Settings | None = None, *, freeze_on_start: bool = False) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    engine = make_engine(settings)
    state = AppState(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        read_sessions=make_read_sessionmaker(engine),
        reads=make_reads(
            engine, pool_size=settings.db_pool_size, timeout=settings.db_timeout_seconds
        ),
        live=LiveHub.for_database(
            settings.database_url,
            queue_size=settings.live_queue_size,
            timeout=settings.db_timeout_seconds,
        ),
        limits=make_limiter(settings),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await start(state)
        await state.live.start()
        if freeze_on_start:
            # Everything made so far (the app, its schemas, the GraphQL schema, the
            # ORM's mappers) lives as long as the process: out of the collector's
            # reach, each full collection walks only what requests make (p99 latency).
            gc.collect()
            gc.freeze()
            # A GraphQL page makes some ten thousand objects, nearly all freed by
            # reference counting when it is answered; at the default threshold (700)
            # the collector ran a dozen young collections per page, each walking the
            # objects of every request in flight. Measured with make bench: a page's
            # CPU 3.6 -> 3.1 ms, no change on REST, resident memory +6 MB.
            _, older, oldest = gc.get_threshold()
            gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, older, oldest)
        log.info("pmo-api ready", extra={"database": engine.dialect.name})
        watching = None
        if settings.compliance_watch_seconds > 0:
            watching = asyncio.create_task(
                watch.keep_watching(settings.compliance_watch_seconds, lambda: _look(state))
            )
        pooling = None
        if telemetry.MULTIPROCESS:  # its pool figures kept for the scrapes others answer
            pooling = asyncio.create_task(telemetry.keep_pools_fresh(state))
        delivering = None
        if settings.webhook_worker:
            worker = Worker.from_settings(
                state.sessions, settings, name="serve", publish=live_publisher(state.live)
            )
            state.worker = worker
            delivering = asyncio.create_task(worker.run())
            stop_waking = wake_on_commit(worker)
        try:
            yield
        finally:
            if delivering is not None:
                stop_waking()
                delivering.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await delivering
            if watching is not None:
                watching.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watching
            if pooling is not None:
                pooling.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pooling
            await state.live.stop()
            await state.reads.close()
            if state.limits is not None:
                await state.limits.close()
            await engine.dispose()
            telemetry.process_stopped()
            log.info("pmo-api stopped")

    app = routing.Service(
        title="pmo-api",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        generate_unique_id_function=lambda route: route.name,
        dependencies=[Depends(reject_unknown_query)],
        # FastAPI's OpenTelemetry bridge asks on every request whether a tracer, meter
        # or logger provider has been configured; none is here (requests are logged by
        # the request middleware), so the question is not asked.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.pmo = state
    errors.install(app)

    for router in (
        audits_rest.router,
        *resources.routers,
        metrics_rest.router,
        compliance_rest.router,
        lessons_rest.router,
        ranking_rest.router,
        standards_rest.router,
        training_rest.router,
        *records_rest.routers,
        *schedule_rest.routers,
        *reporting_rest.routers,
        *staffing_rest.routers,
        exports_rest.router,
        webhooks_rest.router,
        meta.router,
    ):
        routing.mount(app, router, "/api/v1")
    routing.mount(app, operations.router)
    if settings.metrics_enabled:
        routing.mount(app, operations.metrics_router)
    graphql = graphql_router(settings)
    for route in graphql.routes:  # GraphQL states its contract in its own SDL
        route.include_in_schema = False  # type: ignore[attr-defined]
    routing.mount(app, graphql, "/graphql")
    routing.install(app)
    app.add_middleware(RequestMiddleware, max_body_bytes=settings.max_body_bytes)
    if settings.cors_origins:  # added last: the outermost layer
        app.add_middleware(CorsMiddleware, origins=settings.cors_origins)
    _document_problems_only_as_problem_json(app)
    return app


def _document_problems_only_as_problem_json(app: FastAPI) -> None:
    """Error responses are documented as application/problem+json only, and an optional
    header is documented as what it is when sent: a string, never null (a header cannot
    carry null; leaving it out is what ``required: false`` says)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {})
                    if PROBLEM_MEDIA_TYPE in content:
                        content.pop("application/json", None)
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") == "header":
                        _drop_null(parameter.get("schema", {}))
        ratelimit.document(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _drop_null(schema: dict[str, Any]) -> None:
    """``anyOf: [X, {type: null}]`` becomes X, in place."""
    branches = schema.get("anyOf")
    if not branches:
        return
    kept = [branch for branch in branches if branch.get("type") != "null"]
    if len(kept) == 1 and len(kept) < len(branches):
        del schema["anyOf"]
        schema.update(kept[0])
