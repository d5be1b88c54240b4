"""Webhook delivery throughput on PostgreSQL: ``--events`` events already committed (in
the outbox, as a burst of changes leaves them) and one subscription to a local
receiver; ``--workers`` ``pmo-api worker`` processes start together and dispatch and
send them all. Measured: the time from their start until every delivery has succeeded
(deliveries a second, end to end), and that each event reached the receiver once.

    make bench-webhooks                                   # what this runs
    .venv/bin/python bench/webhooks.py --events 10000 --workers 2

The receiver is uvicorn serving a handler that answers 204 at once (one process, on
this machine), so the figure is the service's side: claim, sign, send, record.
Results: bench/results/webhooks-<UTC stamp>/summary.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
ADMIN = "pmo_bench_webhooks_admin_key_0123456789"
RECEIVER = """
import sys
count = 0
ids = set()
async def app(scope, receive, send):
    global count
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/count":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": f"{count} {len(ids)}".encode()})
        return
    count += 1
    for name, value in scope["headers"]:
        if name == b"webhook-id":
            ids.add(value)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})
"""


def start(command: list[object], **options: object) -> subprocess.Popen[bytes]:
    """A process started beside the benchmark (it waits for none of them)."""
    return subprocess.Popen(command, **options)  # type: ignore[call-overload]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    name = f"pmo_bench_webhooks_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(args.postgres)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base = args.postgres.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    env = {
        **os.environ,
        "PMO_DATABASE_URL": url,
        "PMO_BOOTSTRAP_ADMIN_KEY": ADMIN,
        "PMO_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
        "PMO_WEBHOOK_WORKER": "false",
        "PMO_RATE_LIMITS": "false",
        "PMO_LOG_LEVEL": "WARNING",
    }
    tmp = Path(f"/tmp/{name}")
    await asyncio.to_thread(tmp.mkdir)
    await asyncio.to_thread((tmp / "receiver.py").write_text, RECEIVER)
    receiver_port, api_port = free_port(), free_port()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        await asyncio.to_thread(
            subprocess.run, [BIN / "pmo-api", "migrate"], env=env, check=True, capture_output=True
        )
        processes.append(
            start(
                [
                    BIN / "uvicorn",
                    "receiver:app",
                    "--port",
                    str(receiver_port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                cwd=tmp,
            )
        )
        server = start([BIN / "pmo-api", "serve", "--port", str(api_port)], env=env)
        processes.append(server)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as client:
            for _ in range(100):
                try:
                    await client.get("/healthz")
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            made = await client.post(
                "/api/v1/webhooks",
                headers={"Authorization": f"Bearer {ADMIN}"},
                json={
                    "url": f"http://127.0.0.1:{receiver_port}/hook",
                    "event_types": ["portfolio.updated"],
                },
            )
            made.raise_for_status()
        connection = await asyncpg.connect(url)
        now = datetime.now(UTC)
        await connection.executemany(
            "INSERT INTO audit_events (id, occurred_at, action, entity_type, entity_id, "
            "entity_version, actor_name, actor_role, request_id, changes) "
            "VALUES ($1, $2, 'portfolio.updated', 'portfolio', $3, 2, 'bench', 'admin', "
            "'bench', '{}'::jsonb)",
            [(uuid.uuid4(), now, uuid.uuid4()) for _ in range(args.events)],
        )
        backlog = await connection.fetchval("SELECT count(*) FROM outbox")
        print(f"{backlog} events in the outbox; starting {args.workers} worker(s)", flush=True)
        started = time.perf_counter()
        workers = [start([BIN / "pmo-api", "worker"], env=env) for _ in range(args.workers)]
        processes.extend(workers)
        done = 0
        while True:
            done = await connection.fetchval(
                "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'"
            )
            if done >= args.events:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(1)
        async with httpx.AsyncClient() as client:
            counted = (await client.get(f"http://127.0.0.1:{receiver_port}/count")).text
        received, distinct = (int(x) for x in counted.split())
        await connection.close()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = ROOT / "bench" / "results" / f"webhooks-{stamp}"
        out.mkdir(parents=True)
        summary = (
            f"# Webhook delivery throughput ({args.workers} workers, PostgreSQL)\n\n"
            f"- events: {args.events}, deliveries succeeded: {done}\n"
            f"- received: {received} requests, {distinct} distinct webhook-ids\n"
            f"- time from the workers' start to the last success: {elapsed:.2f} s\n"
            f"- throughput: **{done / elapsed:.0f} deliveries/s**\n"
        )
        (out / "summary.md").write_text(summary)
        print(summary)
        if received != args.events or distinct != args.events:
            sys.exit("an event was sent more than once, or not at all")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        admin = await asyncpg.connect(args.postgres)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
