"""Pipelining and split writes in the fast lane: answers in request order, each for its own body, however bytes arrive.

Every request in these tests has its own request id and its own number of documents, so an answer
sent for the wrong request, or a body cut at the wrong place, shows as a wrong id or a wrong count.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import StartFake, StartGateway, model
from tests.fakes.tcp import StartRaw
from tests.gateway_process import until
from tests.raw_http import (
    ECHO_COUNTS,
    ECHO_DOC,
    Conn,
    GatedUpstream,
    Reply,
    chunked_post,
    connected,
    echoing_requests,
    exchange,
    handovers,
    port_of,
    post,
    scrape,
    value,
)

LOCAL = {
    "providers": {"local": {"type": "local"}},
    "models": {"m": model(("local", "bm25"))},
    "cache": {"enabled": False},
}


def body(n: int, query: str = "apple") -> dict[str, Any]:
    """A rerank body with `n` documents, the i-th naming i, so that each request ranks differently."""
    return {"model": "m", "query": query, "documents": [f"apple {i} " + "pear " * i for i in range(n)]}


def check(replies: list[Reply], counts: list[int]) -> None:
    """The answers are 200s for requests r0, r1, ... in order, with `counts` results each."""
    assert [r.status for r in replies] == [200] * len(counts)
    assert [r.header("x-request-id") for r in replies] == [f"r{i}" for i in range(len(counts))]
    assert [len(r.json()["results"]) for r in replies] == counts


async def test_three_requests_in_one_write_get_three_answers_in_order(start_gateway: StartGateway) -> None:
    """Three pipelined requests with different queries and document counts are answered in order, each its own."""
    client = await start_gateway(LOCAL)
    counts = [3, 1, 5]
    queries = ["apple", "pear", "apple 4"]
    data = b"".join(
        post("/v1/rerank", body(n, q), headers=[("x-request-id", f"r{i}")])
        for i, (n, q) in enumerate(zip(counts, queries, strict=True))
    )
    async with await Conn.open(port_of(client)) as conn:
        await conn.send(data)
        replies = [await conn.reply() for _ in counts]
    alone = []  # the same requests one at a time, on a connection each
    for i, (n, q) in enumerate(zip(counts, queries, strict=True)):
        [reply] = await exchange(port_of(client), post("/v1/rerank", body(n, q), headers=[("x-request-id", f"r{i}")]))
        alone.append(reply)
    check(replies, counts)
    assert [r.comparable() for r in replies] == [r.comparable() for r in alone]
    assert replies[2].json()["results"][0]["index"] == 4  # "apple 4" ranks its own document first
    assert handovers(await scrape(port_of(client))) == {}


async def test_a_fast_request_then_a_chunked_one_in_one_write_are_answered_in_order(
    start_gateway: StartGateway,
) -> None:
    """A fast-lane request and a chunked one written together: the first is served, the second handed over, in order."""
    client = await start_gateway(LOCAL)
    data = post("/v1/rerank", body(2), headers=[("x-request-id", "r0")])
    data += chunked_post("/v1/rerank", body(4), headers=[("x-request-id", "r1")], size=17)
    data += post("/v1/rerank", body(1), headers=[("x-request-id", "r2")])
    replies = await exchange(port_of(client), data, answers=3)
    check(replies, [2, 4, 1])
    assert handovers(await scrape(port_of(client))) == {"framing": 1}


async def test_a_head_byte_by_byte_and_a_body_in_small_writes_is_served(start_gateway: StartGateway) -> None:
    """A request whose head arrives a byte per write and whose body comes in small writes is served in the fast lane."""
    client = await start_gateway(LOCAL)
    data = post("/v1/rerank", body(6), headers=[("x-request-id", "r0")])
    split = data.index(b"\r\n\r\n") + 4
    async with await Conn.open(port_of(client)) as conn:
        for i in range(split):
            await conn.send(data[i : i + 1])
            await asyncio.sleep(0)
        for start in range(split, len(data), 9):
            await conn.send(data[start : start + 9])
            await asyncio.sleep(0)
        reply = await conn.reply()
    check([reply], [6])
    assert handovers(await scrape(port_of(client))) == {}


async def test_requests_split_at_every_boundary_are_each_served(start_gateway: StartGateway) -> None:
    """Two pipelined requests in writes ending inside the blank line, the body and the next head are answered right."""
    client = await start_gateway(LOCAL)
    data = post("/v1/rerank", body(2), headers=[("x-request-id", "r0")])
    data += post("/v2/rerank", body(3), headers=[("x-request-id", "r1")])
    first_end = data.index(b"\r\n\r\n")
    cuts = [first_end + 1, first_end + 3, first_end + 10, data.index(b"POST", 1) + 2, len(data) - 1, len(data)]
    start = 0
    async with await Conn.open(port_of(client)) as conn:
        for cut in cuts:
            await conn.send(data[start:cut])
            await asyncio.sleep(0.01)  # let the server read each piece on its own
            start = cut
        replies = [await conn.reply() for _ in range(2)]
    check(replies, [2, 3])
    assert handovers(await scrape(port_of(client))) == {}


async def test_many_pipelined_requests_behind_a_slow_one_are_all_answered_in_order(
    start_gateway: StartGateway, start_raw: StartRaw
) -> None:
    """Over 64 KiB of requests pipelined behind one the upstream holds are read, served and answered in order."""
    upstream = GatedUpstream()
    _, url = await start_raw(upstream.handle)
    client = await start_gateway(
        {"providers": {"up": {"type": "cohere", "base_url": url}}, "models": {"m": model(("up", "x"))}}
    )
    big = "word " * 2000  # 10 kB a document
    counts = [1 + i % 4 for i in range(12)]
    data = b"".join(
        post(
            "/v1/rerank", {"model": "m", "query": f"q{i}", "documents": [big] * n}, headers=[("x-request-id", f"r{i}")]
        )
        for i, n in enumerate(counts)
    )
    assert len(data) > 2 * 64 * 1024
    async with await Conn.open(port_of(client)) as conn:
        await conn.send(data)
        await until(lambda: bool(upstream.bodies))
        assert len(upstream.bodies) == 1  # one request at a time: the rest wait behind it, read or not
        upstream.gate.set()
        replies = [await conn.reply() for _ in counts]
    check(replies, counts)
    assert len(upstream.bodies) == len(counts)


async def settled(port: int, most: int) -> None:
    """Return once the gateway has answered `most` requests, or answers no more for a while (it waits to write)."""
    seen: list[float] = []
    for _ in range(500):
        seen.append(
            value(await scrape(port), "rerank_gateway_requests_total", model="m", dialect="cohere", status="200")
        )
        if seen[-1] >= most or (seen[-1] and seen[-3:] == [seen[-1]] * 3):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the gateway never settled")


async def test_a_client_that_reads_only_after_sending_everything_gets_every_answer_in_order(
    start_gateway: StartGateway, start_fake: StartFake
) -> None:
    """Pipelined requests whose answers fill every buffer before the client reads are answered, in order, once it reads.

    The server stops writing (its transport pauses it) with large requests still unread behind: when the
    client reads, the server must read those bodies again too, or the connection stalls for good.
    """
    _, url = await start_fake("cohere")
    client = await start_gateway(
        {"providers": {"up": {"type": "cohere", "base_url": url}}, "models": {"m": model(("up", "x"))}}
    )
    counts, data = ECHO_COUNTS, echoing_requests()
    sock = await connected(port_of(client), receive_buffer=65536)
    sending = asyncio.create_task(asyncio.get_running_loop().sock_sendall(sock, data))
    try:
        await settled(port_of(client), len(counts))
    finally:
        conn = await Conn.over(sock)
    async with conn:
        replies = [await conn.reply() for _ in counts]
        await sending
    check(replies, counts)
    assert all(r["document"]["text"] == ECHO_DOC for reply in replies for r in reply.json()["results"])
