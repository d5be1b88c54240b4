"""SIGTERM under load: requests in flight finish, nothing acknowledged is lost, and
the process exits 0 within its grace period.

To have requests that are provably in flight when the signal lands, the test holds
``FOR UPDATE`` on one portfolio row and sends creates into that portfolio: they wait
inside PostgreSQL (on the foreign-key check) until the lock goes, and the test sees
them waiting in ``pg_stat_activity`` before it sends SIGTERM. The lock is released
only after the signal, so those requests must finish during the shutdown.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from tests.faults.harness import (
    PROJECTS,
    Call,
    Client,
    Ledger,
    Load,
    Service,
    assert_clean,
    fresh_database,
    load_figures,
    make_portfolio,
    portfolio_row_locked,
    record_figures,
    request_ids_on_trail,
    service_backends_waiting_on_locks,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL not in PMO_TEST_BACKENDS"),
]

GRACE_SECONDS = 10
BLOCKED = 8
WORKERS = 6
HOLD_AFTER_SIGNAL = 2.0
LOAD_AFTER_SIGNAL = 1.0
# A request sent this long before the signal has surely been read by the server (its
# event loop polls far more often): it counts as accepted and must get its answer.
ACCEPTED_AFTER = 0.2


async def test_sigterm_under_load_finishes_requests_in_flight(tmp_path: Path) -> None:
    async with fresh_database("postgresql", tmp_path) as database:
        service = Service(database.url, tmp_path, migrate=True, graceful_timeout=GRACE_SECONDS)
        restarted: Service | None = None
        client = Client(service.base_url)
        await service.start()
        try:
            portfolio = await make_portfolio(client)
            held = await make_portfolio(client, prefix="HELD")
            ledger = Ledger(client.tag)
            load = Load(client, ledger, portfolio["id"], seed=3)
            blocked_load = Load(client, ledger, held["id"], seed=4)
            async with load.running(WORKERS):
                await asyncio.sleep(3)
                async with portfolio_row_locked(database, held["id"]):
                    blocked = [blocked_load.new_tracked(worker=100 + n) for n in range(BLOCKED)]
                    sends = [
                        asyncio.create_task(
                            client.send(
                                "POST",
                                PROJECTS,
                                json_body=t.body,
                                headers={"Idempotency-Key": t.idem},
                            )
                        )
                        for t in blocked
                    ]
                    deadline = time.monotonic() + 10
                    while await service_backends_waiting_on_locks(database) < BLOCKED:
                        assert time.monotonic() < deadline, "the creates never reached the lock"
                        await asyncio.sleep(0.05)
                    signalled_at = service.sigterm()
                    # The load goes on for a second against the stopping service, then
                    # starts nothing new (retries of unanswered creates go on).
                    await asyncio.sleep(LOAD_AFTER_SIGNAL)
                    load.stop.set()
                    await asyncio.sleep(HOLD_AFTER_SIGNAL - LOAD_AFTER_SIGNAL)
                blocked_calls: list[Call] = await asyncio.gather(*sends)
                for tracked, call in zip(blocked, blocked_calls, strict=True):
                    if call.status == 201:
                        ledger.ack_create(tracked, call)
                exit_code = await service.wait(GRACE_SECONDS + 5)
                exit_after = time.monotonic() - signalled_at
                # Back on the same port: clients still retrying get their answers.
                restarted = Service(database.url, tmp_path, port=service.port)
                await restarted.start()
            verified = await ledger.verify(client, database)

            blocked_ids = {id(c) for c in blocked_calls}
            in_flight = [
                c
                for c in client.calls
                if c.started < signalled_at
                and (c.ended == 0 or c.ended > signalled_at)
                and not c.deliberate
                and id(c) not in blocked_ids
            ]
            reset = [c for c in in_flight if not c.answered]
            accepted_reset = [c for c in reset if c.started < signalled_at - ACCEPTED_AFTER]
            # A write left without an answer must not have been carried out: if it is on
            # the audit trail, the service accepted it and then dropped the connection.
            unanswered = [c for c in client.transport_errors() if c.is_write]
            reset_but_committed = await request_ids_on_trail(
                database, [c.request_id for c in unanswered]
            )
            after_signal = [
                c
                for c in client.calls
                if signalled_at <= c.started < signalled_at + LOAD_AFTER_SIGNAL
            ]
            figures = {
                "faults": 1,
                "exit_code": exit_code,
                "exit_after_s": exit_after,
                "grace_s": GRACE_SECONDS,
                "blocked_in_flight": BLOCKED,
                "blocked_answered": client.statuses(blocked_calls),
                "load_in_flight": len(in_flight),
                "load_in_flight_reset": len(reset),
                "accepted_reset": len(accepted_reset),
                "reset_but_committed": len(reset_but_committed),
                "sent_after_signal": len(after_signal),
                "refused_after_signal": len(client.transport_errors(after_signal)),
                "answered_after_signal": client.statuses(c for c in after_signal if c.answered),
                **load_figures(client, verified),
            }
            record_figures("sigterm_under_load[postgresql]", figures)

            assert exit_code == 0, service.log_tail()
            assert exit_after < GRACE_SECONDS, figures
            assert [c.status for c in blocked_calls] == [201] * BLOCKED, [
                c.error or c.status for c in blocked_calls
            ]
            assert not accepted_reset, [(c.method, c.path, c.error) for c in accepted_reset]
            assert not reset_but_committed, reset_but_committed
            assert_clean(verified, client, transport_errors=True)
        finally:
            await client.aclose()
            await service.stop()  # already gone; kills it if the test failed before
            if restarted is not None:
                await restarted.stop()
