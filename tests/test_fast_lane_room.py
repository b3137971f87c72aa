"""Room under `limits.max_bytes_in_flight` taken in the fast lane is always given back, however a request ends.

The fast lane takes room for a body once it is all here, before serving it; every way a request
can end (answered, client gone mid-body, client gone while the upstream works) must give it back,
or the gateway slowly stops taking requests. The gauge is read from /metrics until it
settles; nothing here waits a fixed time.
"""

from __future__ import annotations

from typing import Any

import orjson

from tests.conftest import SEED, StartFake, StartGateway, model
from tests.fakes.upstream import FakeUpstream, hang
from tests.raw_http import ROOM, Conn, eventually, handovers, port_of, post, scrape, value

BODY = orjson.dumps(SEED)


async def gateway(start_fake: StartFake, start_gateway: StartGateway) -> tuple[FakeUpstream, int]:
    """A gateway with a bound on bytes in flight, on a Cohere fake; returns the fake and the gateway's port."""
    fake, url = await start_fake("cohere")
    client = await start_gateway(
        {
            "providers": {"up": {"type": "cohere", "base_url": url}},
            "models": {"m": model(("up", "x"))},
            "cache": {"enabled": False},
            "limits": {"max_bytes_in_flight": 1_000_000},
        }
    )
    return fake, port_of(client)


async def room_is(port: int, expected: float) -> None:
    """Return once /metrics shows `expected` bytes in flight."""

    async def check() -> bool:
        return value(await scrape(port), ROOM) == expected

    await eventually(check, f"{ROOM} == {expected}")


async def test_room_is_given_back_after_answers(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """After sequential and pipelined fast-lane requests (successes and a 400), no bytes are left in flight."""
    fake, port = await gateway(start_fake, start_gateway)
    async with await Conn.open(port) as conn:
        for _ in range(3):
            await conn.send(post("/v1/rerank", SEED))
            assert (await conn.reply()).status == 200
        await conn.send(post("/v1/rerank", SEED) + post("/v1/rerank", b"{") + post("/v2/rerank", SEED))
        assert [(await conn.reply()).status for _ in range(3)] == [200, 400, 200]
    assert fake.calls == 5
    samples = await scrape(port)
    assert value(samples, ROOM) == 0
    assert handovers(samples) == {}


async def test_a_body_still_arriving_holds_no_room_and_its_client_leaves_cleanly(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A client that sends a head and part of its body holds no room (room is for whole bodies), and leaves cleanly."""
    fake, port = await gateway(start_fake, start_gateway)
    padded: dict[str, Any] = {**SEED, "documents": ["apple " * 200] * 10}
    data = post("/v1/rerank", padded)
    length = len(orjson.dumps(padded))
    async with await Conn.open(port) as conn:
        await conn.send(data[: len(data) - length // 2])  # the head and half the body
        async with await Conn.open(port) as other:  # a whole request after it is served: the half body held nothing
            await other.send(post("/v1/rerank", SEED))
            assert (await other.reply()).status == 200
        assert value(await scrape(port), ROOM) == 0
    await room_is(port, 0)
    assert fake.calls == 1


async def test_room_is_given_back_when_the_client_leaves_while_the_upstream_works(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A client that disconnects while its request waits on a hung upstream cancels that call and frees its room."""
    fake, port = await gateway(start_fake, start_gateway)
    fake.then(hang())
    async with await Conn.open(port) as conn:
        await conn.send(post("/v1/rerank", SEED))
        await eventually(_async(lambda: fake.calls == 1), "the upstream got the request")
        assert value(await scrape(port), ROOM) == len(BODY)
    await eventually(_async(lambda: fake.cancelled == 1), "the upstream call was cancelled")
    await room_is(port, 0)


async def test_room_is_given_back_when_the_client_leaves_with_pipelined_requests_pending(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A client gone while one request is served and the next one's body is half sent leaves no room held."""
    fake, port = await gateway(start_fake, start_gateway)
    fake.then(hang())
    second = post("/v1/rerank", {**SEED, "query": "pear"})
    async with await Conn.open(port) as conn:
        await conn.send(post("/v1/rerank", SEED) + second[:-5])
        await eventually(_async(lambda: fake.calls == 1), "the upstream got the first request")
    await eventually(_async(lambda: fake.cancelled == 1), "the upstream call was cancelled")
    await room_is(port, 0)
    assert fake.calls == 1


async def test_room_is_given_back_when_the_client_half_closes_after_its_request(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A client that half-closes after its request is gone (as for aiohttp): the request ends and frees its room."""
    fake, port = await gateway(start_fake, start_gateway)
    fake.then(hang())
    async with await Conn.open(port) as conn:
        await conn.send(post("/v1/rerank", SEED))
        await eventually(_async(lambda: fake.calls == 1), "the upstream got the request")
        conn.writer.write_eof()
        assert await conn.at_eof()
    await eventually(_async(lambda: fake.cancelled == 1), "the upstream call was cancelled")
    await room_is(port, 0)


def _async(condition: Any) -> Any:
    """`condition` (a plain predicate) as the coroutine function `eventually` polls."""

    async def check() -> bool:
        return bool(condition())

    return check
