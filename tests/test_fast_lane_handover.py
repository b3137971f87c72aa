"""Handovers: a request the fast lane does not serve goes to aiohttp with every byte read, and gets aiohttp's answer.

Each odd head is sent, byte for byte, to a gateway with the fast lane and to one with aiohttp's server
alone: the answers must be equal, and the fast lane must count exactly one handover, for the right
reason. After a handover the connection is aiohttp's for good, and keeps serving.
"""

from __future__ import annotations

import asyncio
import gzip

import orjson
import pytest

from tests.conftest import SEED, StartGateway, model
from tests.fakes.tcp import StartRaw
from tests.raw_http import (
    ROOM,
    Conn,
    GatedUpstream,
    chunked_post,
    eventually,
    exchange,
    handovers,
    port_of,
    post,
    request,
    scrape,
    value,
)

CAP = 4000
LOCAL = {
    "providers": {"local": {"type": "local"}},
    "models": {"m": model(("local", "bm25"))},
    "cache": {"enabled": False},
    "limits": {"max_body_bytes": CAP},
}
BODY = orjson.dumps(SEED)
FIELDS = [("Content-Type", "application/json")]

#: (id, request bytes, handover reason, the status aiohttp answers, how many answers: 2 with 100 Continue).
ODD: list[tuple[str, bytes, str, int, int]] = [
    ("DELETE", request("DELETE", "/healthz", length=False), "method", 405, 1),
    ("lower-case method", post("/v1/rerank", SEED).replace(b"POST", b"post", 1), "method", 400, 1),
    ("query string", post("/v1/rerank?x=1", SEED), "request_line", 200, 1),
    ("percent-escape", post("/v1/re%72ank", SEED), "request_line", 200, 1),
    ("HTTP/1.2", post("/v1/rerank", SEED).replace(b"HTTP/1.1", b"HTTP/1.2", 1), "request_line", 400, 1),
    ("absolute form", post("http://gateway/v1/rerank", SEED), "request_line", 200, 1),
    ("OPTIONS", request("OPTIONS", "/v1/rerank", length=False), "method", 405, 1),
    ("unknown path", post("/v1/rerankers", SEED), "path", 404, 1),
    ("trailing slash", post("/v1/rerank/", SEED), "path", 404, 1),
    ("repeated field", post("/v1/rerank", SEED, headers=[("X-Tag", "a"), ("x-tag", "b")]), "header", 200, 1),
    ("repeated Host", post("/v1/rerank", SEED, headers=[("Host", "other")]), "header", 400, 1),
    ("obs-fold", post("/v1/rerank", SEED, headers=[("X-Tag", "a\r\n  folded")]), "header", 400, 1),
    ("non-ASCII value", post("/v1/rerank", SEED, headers=[("X-Tag", "caf\xe9")]), "header", 200, 1),
    ("DEL in a value", post("/v1/rerank", SEED, headers=[("X-Tag", "a\x7fb")]), "header", 400, 1),
    ("bare LF", post("/v1/rerank", SEED).replace(b"Host: gateway\r\n", b"Host: gateway\n"), "header", 400, 1),
    ("space before colon", post("/v1/rerank", SEED).replace(b"Content-Type:", b"Content-Type :"), "header", 400, 1),
    ("no Host", post("/v1/rerank", SEED).replace(b"Host: gateway\r\n", b""), "header", 400, 1),
    ("chunked", chunked_post("/v1/rerank", SEED), "framing", 200, 1),
    (
        "CHUNKED",
        chunked_post("/v1/rerank", SEED).replace(b"Transfer-Encoding", b"TRANSFER-ENCODING"),
        "framing",
        200,
        1,
    ),
    (
        "gzip",
        request("POST", "/v1/rerank", headers=[*FIELDS, ("Content-Encoding", "gzip")], body=gzip.compress(BODY)),
        "framing",
        200,
        1,
    ),
    ("100-continue", post("/v1/rerank", SEED, headers=[("Expect", "100-continue")]), "framing", 200, 2),
    ("no Content-Length", request("POST", "/v1/rerank", headers=FIELDS, length=False), "framing", 400, 1),
    (
        "two lengths",
        request(
            "POST", "/v1/rerank", headers=[("Content-Length", f"{len(BODY)}, {len(BODY)}")], body=BODY, length=False
        ),
        "framing",
        400,
        1,
    ),
    ("upgrade", post("/v1/rerank", SEED, headers=[("Connection", "upgrade")]), "connection", 200, 1),
    ("empty Connection", post("/v1/rerank", SEED, headers=[("Connection", "")]), "connection", 200, 1),
    (
        "over max_body_bytes",
        request("POST", "/v1/rerank", headers=[("Content-Length", str(CAP + 1))], length=False),
        "size",
        413,
        1,
    ),
    ("long head", post("/v1/rerank", SEED, headers=[(f"X-H{i}", "v" * 100) for i in range(90)]), "head", 200, 1),
    ("long line", post("/v1/rerank", SEED, headers=[("X-H", "v" * 9000)]), "head", 400, 1),
]


@pytest.mark.parametrize(("data", "reason", "status", "count"), [case[1:] for case in ODD], ids=[c[0] for c in ODD])
async def test_an_odd_request_is_answered_as_aiohttp_answers_it(
    start_gateway: StartGateway, data: bytes, reason: str, status: int, count: int
) -> None:
    """The fast lane hands the request over, counted once for its reason, and the client gets aiohttp's own answer."""
    fast, plain = await start_gateway(LOCAL), await start_gateway(LOCAL, fast_lane=False)
    got = await exchange(port_of(fast), data, answers=count)
    want = await exchange(port_of(plain), data, answers=count)
    assert [r.comparable() for r in got] == [r.comparable() for r in want]
    assert got[-1].status == status
    assert handovers(await scrape(port_of(fast))) == {reason: 1}


def padded(head_size: int, body: bytes) -> bytes:
    """A fast-lane-shaped POST of `body` whose head (up to its blank line) is exactly `head_size` bytes."""
    data = post("/v1/rerank", body, headers=[("X-Pad", "")])
    filler = head_size - data.index(b"\r\n\r\n")
    return data.replace(b"X-Pad: ", b"X-Pad: " + b"p" * filler)


@pytest.mark.parametrize(
    ("head_size", "body_size", "reason"),
    [(8190, 100, None), (8191, 100, "head"), (500, CAP, None), (500, CAP + 1, "size")],
    ids=["head at the limit", "head past it", "body at max_body_bytes", "body past it"],
)
async def test_the_limits_are_where_aiohttp_has_them(
    start_gateway: StartGateway, head_size: int, body_size: int, reason: str | None
) -> None:
    """A head of 8190 bytes and a body of max_body_bytes stay in the fast lane; a byte more of either is aiohttp's."""
    body = orjson.dumps(SEED)
    body += b" " * (body_size - len(body))  # JSON allows trailing white space
    data = padded(head_size, body)
    assert data.index(b"\r\n\r\n") == head_size
    fast, plain = await start_gateway(LOCAL), await start_gateway(LOCAL, fast_lane=False)
    [got], [want] = await exchange(port_of(fast), data), await exchange(port_of(plain), data)
    assert got.comparable() == want.comparable()
    assert got.status == (413 if reason == "size" else 200)
    assert handovers(await scrape(port_of(fast))) == ({reason: 1} if reason else {})


async def test_bytes_past_a_body_are_the_next_request(start_gateway: StartGateway) -> None:
    """Bytes past a Content-Length body are read as the next request: answered 200, then aiohttp's 400 for the rest.

    (aiohttp alone, reading both in one piece, answers only the 400: its parser error drops the good request.)
    """
    fast, plain = await start_gateway(LOCAL), await start_gateway(LOCAL, fast_lane=False)
    got = await exchange(
        port_of(fast), post("/v1/rerank", SEED, headers=[("x-request-id", "good")]) + b"junk\r\n\r\n", answers=2
    )
    [want] = await exchange(port_of(plain), b"junk\r\n\r\n")
    assert (got[0].status, got[0].header("x-request-id")) == (200, "good")
    assert got[1].comparable() == want.comparable()
    assert want.status == 400
    assert handovers(await scrape(port_of(fast))) == {"method": 1}  # "junk" is no method


async def test_no_room_keeps_the_request_in_the_fast_lane_waiting_its_turn(
    start_gateway: StartGateway, start_raw: StartRaw
) -> None:
    """With all of max_bytes_in_flight held, the next request waits in the fast lane, not handed over; both succeed."""
    upstream = GatedUpstream()
    _, url = await start_raw(upstream.handle)
    client = await start_gateway(
        {
            "providers": {"up": {"type": "cohere", "base_url": url}},
            "models": {"m": model(("up", "x"))},
            "cache": {"enabled": False},
            "limits": {"max_bytes_in_flight": 1},
        }
    )
    port = port_of(client)

    async def holding() -> bool:
        return bool(upstream.bodies) and value(await scrape(port), ROOM) == len(BODY)

    async def waiting() -> bool:
        return value(await scrape(port), "rerank_gateway_requests_waiting_for_room") == 1

    async with await Conn.open(port) as first, await Conn.open(port) as second:
        await first.send(post("/v1/rerank", SEED, headers=[("x-request-id", "first")]))
        await eventually(holding, "the first request holds its room at the upstream")
        await second.send(post("/v1/rerank", {**SEED, "query": "banana"}, headers=[("x-request-id", "second")]))
        await eventually(waiting, "the second request waits for room")
        assert len(upstream.bodies) == 1
        upstream.gate.set()
        one, two = await first.reply(), await second.reply()
    assert (one.status, one.header("x-request-id")) == (200, "first")
    assert (two.status, two.header("x-request-id")) == (200, "second")
    assert orjson.loads(upstream.bodies[1])["query"] == "banana"
    samples = await scrape(port)
    assert handovers(samples) == {}
    assert value(samples, "rerank_gateway_requests_waited_for_room_total") == 1
    assert value(samples, ROOM) == 0


async def test_after_a_handover_the_connection_keeps_serving(start_gateway: StartGateway) -> None:
    """A connection handed over at an odd GET goes on serving rerank POSTs (plain, chunked), in order, until closed."""
    client = await start_gateway(LOCAL)
    requests = (
        request("GET", "/healthz?probe=1", length=False),
        post("/v1/rerank", {**SEED, "documents": ["apple"]}, headers=[("x-request-id", "one")]),
        chunked_post("/v1/rerank", {**SEED, "documents": ["apple", "pear"]}, headers=[("x-request-id", "two")]),
        post("/v2/rerank", {**SEED, "documents": ["a", "b", "c"]}, headers=[("x-request-id", "three")]),
        request("GET", "/readyz", length=False),
        post("/v1/rerank", SEED, headers=[("x-request-id", "last"), ("Connection", "close")]),
    )
    replies = []
    async with await Conn.open(port_of(client)) as conn:
        for data in requests:
            await conn.send(data)
            replies.append(await conn.reply())
        assert await conn.at_eof()
    assert [r.status for r in replies] == [200] * 6
    assert [len(r.json()["results"]) for r in replies[1:4]] == [1, 2, 3]
    assert [r.header("x-request-id") for r in replies[1:4]] == ["one", "two", "three"]
    assert (replies[5].header("x-request-id"), replies[5].header("Connection")) == ("last", "close")
    assert handovers(await scrape(port_of(client))) == {"request_line": 1}  # this connection, once


async def test_a_handover_after_fast_requests_keeps_their_order(start_gateway: StartGateway) -> None:
    """Two requests served in the fast lane, then a chunked one handed over, then more: all answered, in order."""
    client = await start_gateway(LOCAL)
    requests = (
        post("/v1/rerank", {**SEED, "documents": ["a"] * 1}, headers=[("x-request-id", "r0")]),
        post("/v1/rerank", {**SEED, "documents": ["a"] * 2}, headers=[("x-request-id", "r1")]),
        chunked_post("/v1/rerank", {**SEED, "documents": ["a"] * 3}, headers=[("x-request-id", "r2")]),
        post("/v1/rerank", {**SEED, "documents": ["a"] * 4}, headers=[("x-request-id", "r3")]),
    )
    replies = []
    async with await Conn.open(port_of(client)) as conn:
        for data in requests:
            await conn.send(data)
            replies.append(await conn.reply())
    assert [(r.status, len(r.json()["results"])) for r in replies] == [(200, 1), (200, 2), (200, 3), (200, 4)]
    assert [r.header("x-request-id") for r in replies] == ["r0", "r1", "r2", "r3"]
    assert handovers(await scrape(port_of(client))) == {"framing": 1}


async def test_an_odd_head_arriving_in_pieces_is_handed_over_whole(start_gateway: StartGateway) -> None:
    """An odd head sent in pieces, with its body arriving later in small writes, is served whole by aiohttp."""
    client = await start_gateway(LOCAL)
    data = chunked_post("/v1/rerank", SEED, headers=[("x-request-id", "pieces")], size=7)
    async with await Conn.open(port_of(client)) as conn:
        for start in range(0, len(data), 13):
            await conn.send(data[start : start + 13])
            await asyncio.sleep(0)
        reply = await conn.reply()
    assert (reply.status, reply.header("x-request-id")) == (200, "pieces")
    assert handovers(await scrape(port_of(client))) == {"framing": 1}
