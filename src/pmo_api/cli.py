"""The ``pmo-api`` command: serve, migrate, create-api-key, export-schemas, seed-demo.

Each command is an entry point in the STYLE.md sense: it builds a system
``ServiceContext`` and commits through ``db/transaction.py``, never on its own.
Errors a person can act on end the command with one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from pmo_api.core.context import SYSTEM, Role, ServiceContext
from pmo_api.core.errors import DomainError
from pmo_api.db import migrate
from pmo_api.db.engine import make_engine, make_sessionmaker
from pmo_api.db.transaction import unit_of_work
from pmo_api.logs import configure_logging
from pmo_api.settings import Settings, SettingsError, get_settings, load_settings
from pmo_api.telemetry import MULTIPROCESS_DIRECTORY

T = TypeVar("T")
APP_FACTORY = "pmo_api.app:served_app"
EXIT_FAILURE, EXIT_USAGE = 1, 2
MIGRATE_ACTIONS = ("upgrade", "downgrade", "current")


class CommandError(Exception):
    """Ends the command with one line on stderr and the given exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def say(message: str) -> None:
    """Progress and notes go to stderr, so stdout carries only results."""
    print(message, file=sys.stderr, flush=True)


def _database(settings: Settings) -> str:
    return make_url(settings.database_url).render_as_string(hide_password=True)


def _migrate(settings: Settings, revision: str = "head", *, down: bool = False) -> None:
    say(f"{'downgrading' if down else 'migrating'} {_database(settings)} to {revision}...")
    step = migrate.downgrade if down else migrate.upgrade
    try:
        step(settings.database_url, revision)
    except Exception as error:  # alembic surfaces driver errors of every kind
        raise CommandError(f"migration failed: {_first_line(error)}") from None


def _ensure_schema(settings: Settings) -> None:
    """SQLite (or PMO_AUTO_MIGRATE=true) brings its schema to head by itself."""
    if settings.migrate_on_start:
        _migrate(settings)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


async def _as_system(settings: Settings, use_case: Callable[[ServiceContext], Awaitable[T]]) -> T:
    """Run one use case as the system principal, in one unit of work."""
    engine = make_engine(settings)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            request_id = f"cli-{uuid.uuid4().hex[:12]}"
            return await use_case(ServiceContext(session, SYSTEM, request_id=request_id))
    finally:
        await engine.dispose()


# --- serve -------------------------------------------------------------------------------


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = load_settings()
    configure_logging(settings.log_level)
    if args.migrate or settings.migrate_on_start:
        _migrate(settings)
    # Migrated once here: neither this process nor any worker repeats it at start.
    os.environ["PMO_AUTO_MIGRATE"] = "false"
    get_settings.cache_clear()
    # uvicorn re-raises the signal that stopped it once it has drained; handling it
    # here turns a graceful stop into exit code 0 instead of death by SIGTERM.
    for handled in (signal.SIGINT, signal.SIGTERM):
        signal.signal(handled, lambda _sig, _frame: None)
    shared_metrics = _share_metrics(args.workers)
    try:
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            loop="auto",  # uvloop when installed
            http="auto",  # httptools when installed
            timeout_graceful_shutdown=args.graceful_timeout,
            log_config=None,  # the app logs JSON itself (pmo_api.logs)
            access_log=False,  # the request middleware logs each request once
            server_header=False,
        )
    finally:
        if shared_metrics is not None:
            shutil.rmtree(shared_metrics, ignore_errors=True)
    return 0


def _share_metrics(workers: int) -> str | None:
    """Several workers count their metrics in one fresh directory of files (started
    empty, removed when the command ends) so that /metrics, whichever worker answers it,
    reports them all (telemetry.py). The workers are new interpreters (uvicorn spawns
    them): prometheus_client reads the variable when they import it."""
    if workers <= 1:
        return None
    directory = tempfile.mkdtemp(prefix="pmo-api-metrics-")
    os.environ[MULTIPROCESS_DIRECTORY] = directory
    return directory


# --- migrate -----------------------------------------------------------------------------


def migrate_command(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level)
    if args.action == "current":
        try:
            migrate.current(settings.database_url)  # prints the revision on stdout
        except Exception as error:
            raise CommandError(f"cannot read the revision: {_first_line(error)}") from None
        return 0
    if args.action == "downgrade":
        if args.revision is None:
            raise CommandError("downgrade needs a revision, e.g. -1 or base", EXIT_USAGE)
        _migrate(settings, args.revision, down=True)
    else:
        _migrate(settings, args.revision or "head")
    say("done")
    return 0


# --- create-api-key ----------------------------------------------------------------------


def create_key_command(args: argparse.Namespace) -> int:
    from pmo_api.auth.declaration import API_KEYS
    from pmo_api.resources import service as resources

    settings = load_settings()
    try:
        data = API_KEYS.create.model_validate(
            {"name": args.name, "role": Role(args.role), "person_id": args.person}
        )
    except ValidationError as error:
        first = error.errors()[0]
        raise CommandError(f"--{first['loc'][0]}: {first['msg']}", EXIT_USAGE) from None
    _ensure_schema(settings)
    key = asyncio.run(_as_system(settings, lambda ctx: resources.create(ctx, API_KEYS, data)))
    print(key["secret"], flush=True)
    say(
        f"created {key['role'].value} key {key['id']} ({key['name']}); "
        "the secret is shown only once"
    )
    return 0


# --- export-schemas ----------------------------------------------------------------------


def export_schemas_command(args: argparse.Namespace) -> int:
    from pmo_api.contracts import ContractUnavailable, render_contracts

    try:
        contracts = render_contracts()
    except ContractUnavailable as error:
        raise CommandError(str(error)) from None
    out_dir: Path = args.out_dir
    if args.check:
        stale = [name for name, text in contracts.items() if _read(out_dir / name) != text]
        for name in stale:
            state = "is missing" if _read(out_dir / name) is None else "differs from the code"
            say(f"{out_dir / name} {state}")
        if stale:
            say("run `make schemas` (pmo-api export-schemas) and commit the result")
            return EXIT_FAILURE
        say(f"{', '.join(str(out_dir / name) for name in contracts)}: up to date")
        return 0
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in contracts.items():
        (out_dir / name).write_text(text, encoding="utf-8", newline="\n")
        say(f"wrote {out_dir / name}")
    return 0


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


# --- seed-demo ---------------------------------------------------------------------------


def seed_demo_command(args: argparse.Namespace) -> int:
    from pmo_api.demo import seed_demo

    settings = load_settings()
    _ensure_schema(settings)

    async def run() -> dict[str, int]:
        engine = make_engine(settings)
        try:
            return (await seed_demo(make_sessionmaker(engine), say)).created
        finally:
            await engine.dispose()

    created = asyncio.run(run())
    summary = ", ".join(f"{count} {name}" for name, count in created.items())
    if any(created.values()):
        print(f"demo organisation ready: created {summary}")
    else:
        print("demo organisation already present: nothing to create")
    return 0


# --- compliance --------------------------------------------------------------------------


def compliance_watch_command(args: argparse.Namespace) -> int:
    from pmo_api.standards import watch

    settings = load_settings()
    _ensure_schema(settings)
    judged, recorded = asyncio.run(_as_system(settings, watch.look))
    print(f"{judged} project(s) judged, {recorded} compliance event(s) recorded")
    return 0


def snapshot_command(args: argparse.Namespace) -> int:
    from pmo_api.metrics import service as metrics

    settings = load_settings()
    _ensure_schema(settings)
    taken = asyncio.run(_as_system(settings, metrics.snapshot))
    print(f"{taken} project snapshot(s) taken for today (UTC)")
    return 0


# --- worker ------------------------------------------------------------------------------


def worker_command(args: argparse.Namespace) -> int:
    """The webhook delivery worker on its own (``pmo-api serve`` runs one by default)."""
    from pmo_api.events.live import LiveHub
    from pmo_api.webhooks import guard
    from pmo_api.webhooks.worker import Worker, live_publisher

    settings = load_settings()
    configure_logging(settings.log_level)
    _ensure_schema(settings)
    guard.allow(settings.webhook_allow_hosts)

    async def run() -> int:
        engine = make_engine(settings)
        # Live events go to the servers' subscribers (NOTIFY on PostgreSQL; on SQLite the
        # subscribers are in the server's process, whose own worker tells them).
        hub = LiveHub.for_database(settings.database_url)
        await hub.start(listen=False)
        worker = Worker.from_settings(
            make_sessionmaker(engine), settings, name="worker", publish=live_publisher(hub)
        )
        try:
            if args.drain:
                return await worker.drain()
            task = asyncio.create_task(worker.run())
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for handled in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(handled, stop.set)
            await stop.wait()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return worker.sent
        finally:
            await hub.stop()
            await engine.dispose()

    sent = asyncio.run(run())
    if args.drain:
        print(f"{sent} delivery attempt(s) made; nothing more is due")
    return 0


# --- standards ---------------------------------------------------------------------------


def standards_export_command(args: argparse.Namespace) -> int:
    from pmo_api.standards import documents

    settings = load_settings()
    _ensure_schema(settings)
    folder: Path = args.folder
    written = asyncio.run(_as_system(settings, lambda ctx: documents.export(ctx, folder)))
    for path in written:
        say(f"wrote {path}")
    print(f"{len(written)} standard(s) written to {folder}")
    return 0


def standards_apply_command(args: argparse.Namespace) -> int:
    from pmo_api.standards import documents

    settings = load_settings()
    folder: Path = args.folder
    if not folder.is_dir():
        raise CommandError(f"{folder}: not a folder", EXIT_USAGE)
    try:
        planned = documents.plan(folder)
    except documents.FolderRefused as refused:
        for problem in refused.problems:
            say(problem)
        say("pmo-api: the folder is refused: nothing was changed")
        return EXIT_FAILURE
    _ensure_schema(settings)

    async def run(ctx: ServiceContext) -> list[tuple[documents.Planned, str, int]]:
        done = await documents.apply(ctx, planned, publish=args.publish)
        if args.dry_run:
            raise _DryRun(done)
        return done

    try:
        done = asyncio.run(_as_system(settings, run))
    except _DryRun as dry:
        done = dry.done
    changed = 0
    for item, outcome, revision in done:
        print(f"{item.path}: {outcome} (revision {revision})")
        changed += outcome != documents.UNCHANGED
    verb = "would change" if args.dry_run else "changed"
    print(f"{changed} of {len(done)} standard(s) {verb}" if changed else "nothing differs")
    return 0


class _DryRun(Exception):
    """Raised inside the unit of work so that it rolls back what a dry run did."""

    def __init__(self, done: list[Any]) -> None:
        super().__init__("dry run")
        self.done = done


# --- wiring ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pmo-api",
        description="A headless Project Management Office service. Settings: PMO_* variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("serve", help="serve the REST and GraphQL API")
    run.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    run.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    run.add_argument(
        "--migrate",
        action="store_true",
        help="bring the schema to head first (always done on SQLite; or PMO_AUTO_MIGRATE=true)",
    )
    run.add_argument(
        "--graceful-timeout",
        type=int,
        default=20,
        metavar="SECONDS",
        help="on SIGTERM, how long in-flight requests may finish (default 20)",
    )
    run.set_defaults(handler=serve)

    mig = commands.add_parser("migrate", help="upgrade or downgrade the database schema")
    mig.add_argument("action", nargs="?", default="upgrade", choices=MIGRATE_ACTIONS)
    mig.add_argument("revision", nargs="?", help="target (upgrade: head; downgrade: -1, base...)")
    mig.set_defaults(handler=migrate_command)

    key = commands.add_parser("create-api-key", help="create an API key and print its secret")
    key.add_argument("--role", required=True, choices=[role.value for role in Role])
    key.add_argument("--name", required=True, help="who or what the key is for")
    key.add_argument(
        "--person", type=uuid.UUID, metavar="PERSON_ID", help="the person a manager key acts for"
    )
    key.set_defaults(handler=create_key_command)

    schemas = commands.add_parser(
        "export-schemas", help="write openapi/openapi.json and openapi/schema.graphql"
    )
    schemas.add_argument("--out-dir", type=Path, default=Path("openapi"), metavar="DIR")
    schemas.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file differs"
    )
    schemas.set_defaults(handler=export_schemas_command)

    seed = commands.add_parser("seed-demo", help="create a small demo organisation (idempotent)")
    seed.set_defaults(handler=seed_demo_command)

    compliance = commands.add_parser("compliance", help="the compliance watch")
    looks = compliance.add_subparsers(dest="action", required=True, metavar="ACTION")
    look = looks.add_parser(
        "watch",
        help="judge every project once and record compliance.failed / compliance.passed "
        "for those that changed (the server does it every PMO_COMPLIANCE_WATCH_SECONDS)",
    )
    look.set_defaults(handler=compliance_watch_command)

    shot = commands.add_parser(
        "snapshot",
        help="snapshot every live project's key figures for the metrics' history: once per "
        "day per project however often it runs (run it daily from cron)",
    )
    shot.set_defaults(handler=snapshot_command)

    work = commands.add_parser(
        "worker",
        help="run the webhook delivery worker alone (several may run on one PostgreSQL; "
        "serve runs one unless PMO_WEBHOOK_WORKER=false)",
    )
    work.add_argument(
        "--drain",
        action="store_true",
        help="stop once nothing is left to dispatch or due to send",
    )
    work.set_defaults(handler=worker_command)

    standards = commands.add_parser(
        "standards", help="standards as code: export them to a folder, or apply a folder"
    )
    actions = standards.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write every standard as one YAML file")
    export.add_argument("folder", type=Path, metavar="DIR")
    export.set_defaults(handler=standards_export_command)
    apply = actions.add_parser(
        "apply", help="make the service hold the folder's standards (new drafts by default)"
    )
    apply.add_argument("folder", type=Path, metavar="DIR")
    apply.add_argument("--dry-run", action="store_true", help="print the difference only")
    apply.add_argument("--publish", action="store_true", help="publish what changes")
    apply.set_defaults(handler=standards_apply_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except SettingsError as error:
        say(f"pmo-api: {error}")
        return EXIT_USAGE
    except CommandError as error:
        say(f"pmo-api: {error}")
        return error.exit_code
    except DomainError as error:
        say(f"pmo-api: {error.detail} ({error.code})")
        return EXIT_FAILURE
    except sa_exc.DBAPIError as error:
        say(f"pmo-api: database error: {_first_line(error.orig or error)}")
        say("pmo-api: is the schema at head? run `pmo-api migrate`")
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
