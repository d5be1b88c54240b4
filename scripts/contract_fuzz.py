"""Contract fuzzing: Schemathesis against a running pmo-api, REST and GraphQL, per database.

    python scripts/contract_fuzz.py [sqlite] [postgresql]

For each database: a fresh database, `pmo-api serve` on a free port with a bootstrap
admin key, then `schemathesis run` on /openapi.json (every check, every phase,
stateful included; see schemathesis.toml) and on /graphql (schemathesis-graphql.toml).
Exits non-zero when any run finds a failure. PMO_FUZZ_SEED fixes the seed (CI sets
one so a failure reproduces); PMO_TEST_POSTGRES_URL names the PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEY = "pmo_fuzz_admin_" + uuid.uuid4().hex
POSTGRES_URL = os.environ.get(
    "PMO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def database(backend: str, tmp: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'fuzz.db'}", None
    name = f"pmo_fuzz_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_URL.rsplit("/", 1)[0]
    return f"{base}/{name}", name


def wait_ready(base: str, server: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"pmo-api exited with {server.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("pmo-api was not ready in time")


def schemathesis(config: str, location: str, seed: str | None) -> int:
    command = [
        str(BIN / "schemathesis"),
        "--config-file",
        str(ROOT / config),
        "run",
        location,
        # One worker: with threads, Hypothesis' description of a filter strategy calls
        # ast.parse concurrently, which CPython 3.11 can fail with "AST constructor
        # recursion depth mismatch" (an error of the fuzzer, not of the API).
        "--workers",
        "1",
    ]
    if seed:
        command += ["--seed", seed]
    print("$", " ".join(command), flush=True)
    env = {
        **os.environ,
        "PMO_FUZZ_KEY": KEY,
        "SCHEMATHESIS_HOOKS": str(ROOT / "scripts" / "fuzz_hooks.py"),
    }
    return subprocess.call(command, env=env, cwd=ROOT)


def fuzz(backend: str) -> int:
    seed = os.environ.get("PMO_FUZZ_SEED")
    with tempfile.TemporaryDirectory(prefix="pmo-fuzz-") as tmp:
        url, pg_name = database(backend, Path(tmp))
        port = free_port()
        env = {
            **os.environ,
            "PMO_DATABASE_URL": url,
            "PMO_BOOTSTRAP_ADMIN_KEY": KEY,
            "PMO_LOG_LEVEL": "WARNING",
            # The fuzzer's pace is not a client's: budgets it never meets (the 429 is
            # documented and tested in tests/test_rate_limits.py).
            "PMO_RATE_LIMIT_REST_REQUESTS": "1000000000",
            "PMO_RATE_LIMIT_GRAPHQL_COST": "1000000000000",
        }
        command = [str(BIN / "pmo-api"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        if backend == "postgresql":
            command.append("--migrate")
        log = (Path(tmp) / "server.log").open("wb")
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, server)
            print(f"\n=== {backend}: REST ({base}/openapi.json)", flush=True)
            rest = schemathesis("schemathesis.toml", f"{base}/openapi.json", seed)
            print(f"\n=== {backend}: GraphQL ({base}/graphql)", flush=True)
            graphql = schemathesis("schemathesis-graphql.toml", f"{base}/graphql", seed)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
            if pg_name:
                asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        if rest or graphql:
            print((Path(tmp) / "server.log").read_text(errors="replace")[-5000:], file=sys.stderr)
        return rest or graphql


def main(argv: list[str]) -> int:
    backends = argv or ["sqlite", "postgresql"]
    results = {backend: fuzz(backend) for backend in backends}
    for backend, code in results.items():
        print(f"contract fuzzing on {backend}: {'passed' if code == 0 else 'FAILED'}")
    return 1 if any(results.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
