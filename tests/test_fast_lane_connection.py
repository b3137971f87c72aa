"""How long a fast-lane connection lives: `Connection: close` ends it after the answer; an idle one times out.

`server.keepalive_timeout` is "how long a client connection may stay open with no request on it":
a connection with a request on it (being read or being served) is not idle, in the fast lane as in
aiohttp's server.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import SEED, StartFake, StartGateway, model
from tests.fakes.upstream import ok
from tests.raw_http import ECHO_COUNTS, Conn, connected, echoing_requests, exchange, handovers, port_of, post, scrape

LOCAL = {"providers": {"local": {"type": "local"}}, "models": {"m": model(("local", "bm25"))}}
#: Short enough for a test to outwait, long enough that a loaded machine still sends a request in time.
KEEPALIVE = 0.2


@pytest.mark.parametrize("connection", ["close", "keep-alive, close", "Close"])
async def test_connection_close_is_answered_with_close_then_the_connection_ends(
    start_gateway: StartGateway, connection: str
) -> None:
    """A request asking to close gets `Connection: close` on its answer, as from aiohttp, and the server then closes."""
    request = post("/v1/rerank", SEED, headers=[("Connection", connection), ("x-request-id", "bye")])
    fast, plain = await start_gateway(LOCAL), await start_gateway(LOCAL, fast_lane=False)
    async with await Conn.open(port_of(fast)) as conn:
        await conn.send(request)
        reply = await conn.reply()
        assert await conn.at_eof()
    assert (reply.status, reply.header("Connection"), reply.header("x-request-id")) == (200, "close", "bye")
    [want] = await exchange(port_of(plain), request)
    assert reply.comparable() == want.comparable()
    assert handovers(await scrape(port_of(fast))) == {}


async def test_a_request_sent_after_one_that_closes_is_refused_as_aiohttp_refuses_it(
    start_gateway: StartGateway,
) -> None:
    """Bytes after a request asking to close: handed to aiohttp, which refuses the lot with 400, as it does alone."""
    data = post("/v1/rerank", SEED, headers=[("Connection", "close")]) + post("/v1/rerank", SEED)
    fast, plain = await start_gateway(LOCAL), await start_gateway(LOCAL, fast_lane=False)
    [got], [want] = await exchange(port_of(fast), data), await exchange(port_of(plain), data)
    assert got.comparable() == want.comparable()
    assert got.status == 400
    assert handovers(await scrape(port_of(fast))) == {"framing": 1}


async def test_keep_alive_answers_carry_no_connection_field(start_gateway: StartGateway) -> None:
    """Answers on a kept-alive connection have no Connection field, and the connection serves the next request."""
    client = await start_gateway(LOCAL)
    replies = []
    async with await Conn.open(port_of(client)) as conn:
        for headers in ([], [("Connection", "keep-alive")], [("Connection", "Keep-Alive")]):
            await conn.send(post("/v1/rerank", SEED, headers=headers))
            replies.append(await conn.reply())
    assert [(r.status, r.header("Connection")) for r in replies] == [(200, None)] * 3


async def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(start_gateway: StartGateway) -> None:
    """A connection that never sends a request, and one idle after its answer, are both closed by the server."""
    client = await start_gateway(LOCAL, keepalive_timeout=KEEPALIVE)
    async with await Conn.open(port_of(client)) as never, await Conn.open(port_of(client)) as after:
        await after.send(post("/v1/rerank", SEED))
        assert (await after.reply()).status == 200
        assert await never.at_eof()
        assert await after.at_eof()


async def test_a_request_served_for_longer_than_the_timeout_is_answered(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A request the upstream takes three keep-alive timeouts to answer gets its answer; then the connection ends."""
    fake, url = await start_fake("cohere", default=ok(delay=3 * KEEPALIVE))
    config: dict[str, Any] = {
        "providers": {"up": {"type": "cohere", "base_url": url}},
        "models": {"m": model(("up", "x"))},
    }
    client = await start_gateway(config, keepalive_timeout=KEEPALIVE)
    async with await Conn.open(port_of(client)) as conn:
        await conn.send(post("/v1/rerank", SEED, headers=[("x-request-id", "slow")]))
        reply = await conn.reply()
        assert (reply.status, reply.header("x-request-id"), reply.header("Connection")) == (200, "slow", None)
        assert fake.cancelled == 0
        assert await conn.at_eof()


@pytest.mark.parametrize("fast_lane", [True, False])
async def test_a_body_paused_for_longer_than_the_timeout_is_still_served(
    start_gateway: StartGateway, fast_lane: bool
) -> None:
    """A request whose body stalls for longer than the keep-alive timeout is not idle: its rest is read and served."""
    client = await start_gateway(LOCAL, fast_lane=fast_lane, keepalive_timeout=KEEPALIVE)
    data = post("/v1/rerank", SEED, headers=[("x-request-id", "paused")])
    async with await Conn.open(port_of(client)) as conn:
        await conn.send(data[:-10])
        await asyncio.sleep(3 * KEEPALIVE)  # longer than the timeout, with a request half read
        await conn.send(data[-10:])
        reply = await conn.reply()
    assert (reply.status, reply.header("x-request-id")) == (200, "paused")


async def test_a_partial_head_idle_past_the_timeout_is_closed(start_gateway: StartGateway) -> None:
    """A connection that sent part of a request head and then nothing is closed, as aiohttp closes it."""
    client = await start_gateway(LOCAL, keepalive_timeout=KEEPALIVE)
    async with await Conn.open(port_of(client)) as conn:
        await conn.send(post("/v1/rerank", SEED)[:20])
        assert await conn.at_eof()


@pytest.mark.parametrize("fast_lane", [True, False])
async def test_a_head_sent_a_byte_at_a_time_is_closed_after_the_timeout(
    start_gateway: StartGateway, fast_lane: bool
) -> None:
    """A head that keeps arriving a byte at a time but never ends is no request: it is closed, as aiohttp closes it."""
    client = await start_gateway(LOCAL, fast_lane=fast_lane, keepalive_timeout=KEEPALIVE)
    endless = b"POST /v1/rerank HTTP/1.1\r\nHost: gw\r\nx-pad: " + b"a" * 160  # never reaches its blank line
    async with await Conn.open(port_of(client)) as conn:
        for byte in endless:  # a byte every quarter of the timeout, for 40 timeouts
            try:
                await conn.send(bytes([byte]))
                assert await asyncio.wait_for(conn.reader.read(1), KEEPALIVE / 4) == b""
                break  # closed by the server
            except TimeoutError:
                continue
            except ConnectionError:
                break  # closed by the server, and reset by this write
        else:
            raise AssertionError("a head that never ends kept its connection open")


@pytest.mark.parametrize("fast_lane", [True, False])
async def test_a_client_slow_to_read_its_answers_is_not_idle(
    start_gateway: StartGateway, start_fake: StartFake, fast_lane: bool
) -> None:
    """Pipelined requests whose answers wait, unread, for longer than the keep-alive timeout are all answered."""
    _, url = await start_fake("cohere")
    config = {"providers": {"up": {"type": "cohere", "base_url": url}}, "models": {"m": model(("up", "x"))}}
    client = await start_gateway(config, fast_lane=fast_lane, keepalive_timeout=KEEPALIVE)
    counts, data = ECHO_COUNTS, echoing_requests()
    sock = await connected(port_of(client), receive_buffer=65536)
    sending = asyncio.create_task(asyncio.get_running_loop().sock_sendall(sock, data))
    await asyncio.sleep(4 * KEEPALIVE)  # nothing read, nothing more sent: answers wait on the client
    async with await Conn.over(sock) as conn:
        replies = [await conn.reply() for _ in counts]
        await sending
    assert [(r.status, r.header("x-request-id")) for r in replies] == [(200, f"r{i}") for i in range(len(counts))]
