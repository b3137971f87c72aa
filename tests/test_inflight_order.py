"""The room under `limits.max_bytes_in_flight` is handed out strictly in arrival order."""

from __future__ import annotations

import asyncio

from gateway.web.inflight import BytesInFlight


async def test_nobody_overtakes_a_large_request_at_the_head() -> None:
    """A small request behind a large waiting one waits too, though it would fit; both go in order."""
    room = BytesInFlight()
    assert room.take_now(60, 100)
    large = asyncio.create_task(room.take(80, 100))
    await asyncio.sleep(0)
    assert not room.take_now(10, 100)  # would fit, but someone is waiting
    small = asyncio.create_task(room.take(10, 100))
    await asyncio.sleep(0)
    assert (room.used, room.waiting) == (60, 2)
    room.give(60)
    await asyncio.sleep(0)
    assert large.done()
    assert small.done()
    assert (room.used, room.waiting) == (90, 0)


async def test_a_cancelled_head_lets_the_next_one_in() -> None:
    """When the request at the head of the queue leaves, the one behind it gets the room it fits in."""
    room = BytesInFlight()
    assert room.take_now(60, 100)
    large = asyncio.create_task(room.take(80, 100))
    small = asyncio.create_task(room.take(30, 100))
    await asyncio.sleep(0)
    large.cancel()
    await asyncio.wait_for(small, 1)  # granted: it finishes without any give()
    assert (room.used, room.waiting) == (90, 0)


async def test_a_request_granted_as_it_is_cancelled_gives_the_room_back() -> None:
    """Room granted in the same moment its request was cancelled goes back, not lost."""
    room = BytesInFlight()
    assert room.take_now(60, 100)
    waiter = asyncio.create_task(room.take(50, 100))
    await asyncio.sleep(0)
    room.give(60)  # grants the waiter
    waiter.cancel()  # before it ran again
    await asyncio.gather(waiter, return_exceptions=True)
    assert (room.used, room.waiting) == (0, 0)


async def test_room_given_back_in_part_goes_to_the_head_only() -> None:
    """Room that frees up for a small waiter but not for the large one ahead of it stays unused."""
    room = BytesInFlight()
    assert room.take_now(60, 100)
    assert room.take_now(20, 100)
    large = asyncio.create_task(room.take(80, 100))
    small = asyncio.create_task(room.take(10, 100))
    await asyncio.sleep(0)
    room.give(20)  # 60 in use: the small one would fit, the large one at the head does not
    await asyncio.sleep(0)
    assert not large.done()
    assert not small.done()
    assert (room.used, room.waiting) == (60, 2)
    room.give(60)
    await asyncio.wait_for(asyncio.gather(large, small), 1)
    assert (room.used, room.waiting) == (90, 0)
