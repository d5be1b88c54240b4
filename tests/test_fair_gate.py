"""The gate in front of the PostgreSQL reads' connections (``db.reads.FairGate``): places are
handed out strictly in arrival order, a newcomer never overtakes a waiter, and a waiter
cancelled after it was handed a place passes the place on; and the idle connections
behind it (``db.reads.IdleConnections``)."""

from __future__ import annotations

import asyncio

import pytest

from pmo_api.db.reads import FairGate, IdleConnections


async def test_a_freed_place_goes_to_the_longest_waiter_not_to_a_newcomer() -> None:
    gate = FairGate(1)
    await gate.acquire()
    order: list[str] = []

    async def hold(name: str) -> None:
        await gate.acquire()
        order.append(name)
        await asyncio.sleep(0)
        gate.release()

    first = asyncio.create_task(hold("first"))
    second = asyncio.create_task(hold("second"))
    await asyncio.sleep(0)  # both wait
    gate.release()  # the place goes to "first", even before it runs...
    barging = gate.acquire()  # ...so a newcomer asking right now has to wait:
    assert isinstance(barging.send(None), asyncio.Future)  # it suspends, not returns
    barging.close()  # and leaves the queue
    newcomer = asyncio.create_task(hold("newcomer"))
    await asyncio.gather(first, second, newcomer)
    assert order == ["first", "second", "newcomer"]
    # Every place came back: two holders at once fit a gate of two.
    wide = FairGate(2)
    await asyncio.wait_for(asyncio.gather(wide.acquire(), wide.acquire()), 1)


async def test_a_cancelled_waiter_gives_up_its_turn_or_passes_its_place_on() -> None:
    gate = FairGate(1)
    await gate.acquire()
    waiting = asyncio.create_task(gate.acquire())
    behind = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    waiting.cancel()  # cancelled while waiting: leaves the queue
    with pytest.raises(asyncio.CancelledError):
        await waiting
    gate.release()
    await asyncio.wait_for(behind, 1)  # the place went to the next in line
    # Handed a place, then cancelled before it ran: the place is passed on.
    handed = asyncio.create_task(gate.acquire())
    after = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    gate.release()  # to "handed"
    handed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await handed
    await asyncio.wait_for(after, 1)


async def test_a_waiter_that_times_out_holds_no_place_and_leaves_the_queue() -> None:
    gate = FairGate(1)
    await gate.acquire()
    with pytest.raises(TimeoutError):
        await gate.acquire(0.01)
    behind = asyncio.create_task(gate.acquire(5))
    await asyncio.sleep(0)
    gate.release()  # to the waiter behind, not to the one that timed out
    await asyncio.wait_for(behind, 1)
    gate.release()
    # Every place came back, and no timer is left to fire on a waiter served in time.
    await asyncio.wait_for(gate.acquire(0.01), 1)
    await asyncio.sleep(0.02)
    gate.release()
    await asyncio.wait_for(gate.acquire(), 1)


class _FakeConnection:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False

    def is_closed(self) -> bool:
        return self.closed

    def terminate(self) -> None:
        self.closed = True

    async def close(self) -> None:
        self.closed = True


async def test_idle_connections_reuse_the_latest_and_drop_closed_and_stale_ones() -> None:
    opened: list[_FakeConnection] = []

    async def connect() -> _FakeConnection:
        opened.append(_FakeConnection(f"c{len(opened)}"))
        return opened[-1]

    idle = IdleConnections(max_idle=60)
    first, second = await idle.take(connect), await idle.take(connect)
    assert [c.name for c in opened] == ["c0", "c1"]
    idle.give_back(first)
    idle.give_back(second)
    assert await idle.take(connect) is second  # the most recently used first
    first.terminate()  # its server process went away while it was idle
    assert (await idle.take(connect)).name == "c2"  # dropped, a fresh one opened
    stale = opened[-1]
    idle.give_back(stale)
    idle._idle[-1] = (stale, idle._idle[-1][1] - 61)  # idle past max_idle
    assert (await idle.take(connect)).name == "c3" and stale.is_closed()
    idle.give_back(second)
    await idle.close()
    assert second.is_closed()
    late = opened[-1]
    idle.give_back(late)  # given back after the close: closed, not kept
    assert late.is_closed()
    with pytest.raises(Exception, match="closed"):
        await idle.take(connect)
