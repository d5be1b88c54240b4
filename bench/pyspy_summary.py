"""Summarise a py-spy ``--format raw`` profile (collapsed stacks) of pmo-api by layer.

    .venv/bin/python bench/pyspy_summary.py bench/results/latest/profile-get.txt

bench/run.py records these with ``py-spy record --gil --function --format raw`` while
wrk loads one route; this prints where the CPU went: self time by layer (the frame
on top of each sample: SQLAlchemy ORM, pydantic, FastAPI, logging ...), inclusive time
of pmo_api's functions and of the libraries' main entry points, what runs under the
hot pmo_api functions, and the top self-time frames.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

Frame = tuple[str, str]  # (function, file path)


def _in(path: str, *parts: str) -> bool:
    """Whether a frame's file lies in one of these packages (py-spy shortens some paths
    to "package/module.py", others stay absolute)."""
    return any(path.startswith(p) or f"/{p}" in path for p in parts)


LAYERS: list[tuple[str, Callable[[str], bool]]] = [
    ("logging (access log, JSON formatter)", lambda p: _in(p, "logging/", "pmo_api/logs")),
    ("SQLAlchemy ORM (session, loading, unit of work)", lambda p: _in(p, "sqlalchemy/orm/")),
    ("SQLAlchemy Core (statement build, compile, cache key)", lambda p: _in(p, "sqlalchemy/sql/")),
    ("SQLAlchemy engine, pool, asyncpg adapter, greenlet", lambda p: _in(p, "sqlalchemy/")),
    ("asyncpg driver (protocol, prepared statements)", lambda p: _in(p, "asyncpg/")),
    ("aiosqlite / sqlite3", lambda p: _in(p, "aiosqlite/", "sqlite3/")),
    ("pydantic validation/serialisation", lambda p: _in(p, "pydantic/", "pydantic_core/")),
    ("FastAPI routing, dependencies, params", lambda p: _in(p, "fastapi/")),
    ("Starlette (routing, requests, responses)", lambda p: _in(p, "starlette/")),
    (
        "anyio / threads (sync dependencies run in a thread pool)",
        lambda p: _in(p, "anyio/", "concurrent/") or p.endswith("threading.py"),
    ),
    ("Strawberry / graphql-core", lambda p: _in(p, "strawberry/", "graphql/")),
    ("uvicorn / httptools protocol", lambda p: _in(p, "uvicorn/", "httptools/")),
    ("pmo_api middleware", lambda p: _in(p, "pmo_api/api/middleware")),
    ("pmo_api code", lambda p: _in(p, "pmo_api/")),
    ("asyncio / uvloop event loop", lambda p: _in(p, "asyncio/", "uvloop/")),
    ("other stdlib / libraries", lambda p: True),
]

# Library functions worth an inclusive figure beside pmo_api's own: (file, qualname).
ENTRY_POINTS = {
    ("fastapi/dependencies/utils.py", "solve_dependencies"),
    ("fastapi/dependencies/utils.py", "request_params_to_args"),
    ("fastapi/routing.py", "run_endpoint_function"),
    ("anyio/to_thread.py", "run_sync"),
    ("sqlalchemy/ext/asyncio/session.py", "AsyncSession.scalar"),
    ("sqlalchemy/ext/asyncio/session.py", "AsyncSession.scalars"),
    ("sqlalchemy/ext/asyncio/session.py", "AsyncSession.execute"),
    ("sqlalchemy/ext/asyncio/session.py", "AsyncSession.get"),
    ("sqlalchemy/ext/asyncio/session.py", "AsyncSession.flush"),
    ("sqlalchemy/ext/asyncio/session.py", "AsyncSession.commit"),
    ("sqlalchemy/dialects/postgresql/asyncpg.py", "AsyncAdapt_asyncpg_connection._async_ping"),
    ("sqlalchemy/orm/context.py", "_AbstractORMCompileState.orm_execute_statement"),
    ("sqlalchemy/orm/context.py", "_ORMCompileState.orm_setup_cursor_result"),
    ("sqlalchemy/sql/elements.py", "ClauseElement._compile_w_cache"),
    ("sqlalchemy/orm/loading.py", "instances"),
    ("sqlalchemy/pool/base.py", "_ConnectionFairy._checkout"),
    ("pydantic/main.py", "BaseModel.model_validate"),
    ("pydantic/main.py", "BaseModel.model_dump"),
    ("logging/__init__.py", "Logger.info"),
    ("strawberry/schema/schema.py", "Schema.execute"),
    ("strawberry/schema/schema.py", "Schema._prepare_operation_async"),
    ("strawberry/schema/schema.py", "validate_document"),
    ("graphql/language/parser.py", "parse"),
}


def _entry(func: str, path: str) -> bool:
    return any(func == name and path.endswith(file) for file, name in ENTRY_POINTS)


# pmo_api functions whose insides are listed (their heaviest callees' layers).
FOCUS = (
    "RequestMiddleware.__call__",
    "service_context",
    "authenticate",
    "unit_of_work",
    "crud_router.<locals>.read",
    "crud_router.<locals>.list_",
    "crud_router.<locals>.create",
    "list_portfolio_projects",
    "resource",
    "page",
    "GraphQLDoor.run",
    "ProjectsQuery.projects",
    "Loaders._loader.<locals>.load",
)
FRAME = re.compile(r"^(?P<func>.*?) \((?P<path>[^()]*?)(?::\d+)?\)$")


def frames_of(stack: str) -> list[Frame]:
    out = []
    for part in stack.split(";"):
        m = FRAME.match(part.strip())
        out.append((m["func"], m["path"]) if m else (part.strip(), ""))
    return out


def layer_of(path: str) -> str:
    return next(name for name, test in LAYERS if test(path))


def short(func: str, path: str) -> str:
    p = path.split("site-packages/")[-1].split("src/")[-1]
    p = re.sub(r"^.*/lib/python3\.\d+/", "", p)
    return f"{func} ({p})"


def root_of(frames: list[Frame]) -> str:
    func, path = frames[0]
    if not func:
        return "no Python frame (C code holding the GIL: uvloop, httptools, drivers)"
    if any(p.endswith("pmo_api/cli.py") for _, p in frames[:3]):
        return "request stacks (the event loop under `pmo-api serve`)"
    if _in(path, "sqlalchemy/orm/session.py", "sqlalchemy/engine/"):
        return f"SQLAlchemy sync code in a greenlet: {func}"
    return f"other: {short(func, path)}"


def load(raw: Path) -> list[tuple[list[Frame], int]]:
    samples = []
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if n.isdigit():  # an empty stack: the GIL held by C code with no Python frame
            samples.append((frames_of(stack), int(n)))
    return samples


def analyze(raw: Path, top: int = 15) -> str:
    samples = load(raw)
    total = sum(n for _, n in samples) or 1
    layers: dict[str, int] = {}
    self_time: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    under: dict[str, dict[str, int]] = {}
    roots: dict[str, int] = {}
    for frames, n in samples:
        roots[root_of(frames)] = roots.get(root_of(frames), 0) + n
        leaf_func, leaf_path = frames[-1]
        # generated code (NamedTuple/dataclass methods) counts for the layer that calls it
        caller = next((p for _, p in reversed(frames) if p and p != "<string>"), leaf_path)
        leaf_layer = layer_of(caller)
        layers[leaf_layer] = layers.get(leaf_layer, 0) + n
        key = short(leaf_func, leaf_path)
        self_time[key] = self_time.get(key, 0) + n
        seen: set[str] = set()
        for i, (func, path) in enumerate(frames):
            if "pmo_api/" in path or _entry(func, path):
                k = short(func, path)
                if k not in seen:
                    seen.add(k)
                    inclusive[k] = inclusive.get(k, 0) + n
            if "pmo_api/" in path and func in FOCUS:
                # which layer the time under this frame ends in (first focus frame wins)
                rest = frames[i + 1 :]
                if not any("pmo_api/" in p and f in FOCUS for f, p in rest):
                    bucket = under.setdefault(short(func, path), {})
                    bucket[leaf_layer] = bucket.get(leaf_layer, 0) + n

    def pct(n: int) -> str:
        return f"{100 * n / total:5.1f} %"

    out = [f"{total} samples (100 Hz, threads holding the GIL)", "", "Self time by layer:"]
    out += [f"  {pct(n)}  {k}" for k, n in sorted(layers.items(), key=lambda x: -x[1])]
    out += ["", "Stacks by root (py-spy cannot link a greenlet's stack to the await that runs it):"]
    out += [f"  {pct(n)}  {k}" for k, n in sorted(roots.items(), key=lambda x: -x[1])[:8]]
    out += ["", "Inclusive time of pmo_api functions and library entry points (request stacks):"]
    ranked = sorted(inclusive.items(), key=lambda x: -x[1])
    out += [f"  {pct(n)}  {k}" for k, n in ranked if n / total >= 0.01][: top + 15]
    out += ["", "Where the time under each pmo_api step ends (by layer, innermost step):"]
    for k, bucket in sorted(under.items(), key=lambda x: -sum(x[1].values())):
        parts = sorted(bucket.items(), key=lambda x: -x[1])[:4]
        detail = "; ".join(f"{name.split(' (')[0]} {pct(n).strip()}" for name, n in parts)
        out.append(f"  {pct(sum(bucket.values()))}  {k}: {detail}")
    out += ["", "Top self-time frames:"]
    out += [f"  {pct(n)}  {k}" for k, n in sorted(self_time.items(), key=lambda x: -x[1])[:top]]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(f"== {arg}\n{analyze(Path(arg))}")
