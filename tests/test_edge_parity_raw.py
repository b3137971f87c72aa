"""The same raw bytes to a gateway with the fast lane and to one without get the same answers.

Each case is sent on a fresh connection, followed by a request that closes it, and everything the
gateway writes back until it closes the connection is compared, once the Date field, generated
request ids and generated answer ids are blanked out. The cases cover requests the fast lane serves
and every kind it hands to aiohttp, alone and pipelined.
"""

from __future__ import annotations

import asyncio
import gzip
import re
from typing import Any

import orjson
import pytest

from tests.conftest import StartGateway

CONFIG: dict[str, Any] = {
    "providers": {"local": {"type": "local"}},
    "models": {"m": {"type": "rerank", "providers": [{"provider": "local", "model": "bm25"}]}},
    "limits": {"max_body_bytes": 4096},
}
BODY = orjson.dumps({"model": "m", "query": "apple pie", "documents": ["apple pie", "pear", "apple"]})
JINA = orjson.dumps({"model": "m", "query": "pear", "documents": ["apple", "pear"], "top_n": 1})
#: Ends each case's connection: answered, then the gateway closes (or it was closed already).
CLOSER = b"GET /healthz HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"


def post(body: bytes = BODY, *, path: str = "/v1/rerank", fields: str = "", version: str = "1.1") -> bytes:
    """A POST with Host and Content-Length unless `fields` says otherwise (they go before those)."""
    head = f"POST {path} HTTP/{version}\r\n{fields}Host: gw\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def chunked(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


GZ = gzip.compress(BODY)
CASES: dict[str, bytes] = {
    "plain": post(),
    "jina body": post(JINA),
    "v2 route": post(orjson.dumps({"model": "m", "query": "a", "documents": ["a", "b"]}), path="/v2/rerank"),
    "tei route": post(orjson.dumps({"query": "a", "texts": ["a", "b"]}), path="/rerank"),
    "request id given": post(fields="x-request-id: given-1\r\n"),
    "timeout header bad": post(fields="x-request-timeout: soon\r\n"),
    "invalid json": post(b"{nope"),
    "empty body": post(b""),
    "missing field": post(orjson.dumps({"model": "m", "documents": ["a"]})),
    "unknown model": post(orjson.dumps({"model": "zz", "query": "a", "documents": ["a"]})),
    "http/1.0": post(version="1.0"),
    "http/1.0 keep-alive": post(fields="Connection: keep-alive\r\n", version="1.0"),
    "connection close": post(fields="Connection: close\r\n"),
    "connection Keep-Alive": post(fields="Connection: Keep-Alive\r\n"),
    "connection upgrade": post(fields="Connection: upgrade\r\n"),
    "no host": b"POST /v1/rerank HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY),
    "lower-case method": post().replace(b"POST", b"post", 1),
    "GET on a rerank route": b"GET /v1/rerank HTTP/1.1\r\nHost: gw\r\n\r\n",
    "query string": post(path="/v1/rerank?x=1"),
    "percent-escaped path": post(path="/v1/%72erank"),
    "trailing slash": post(path="/v1/rerank/"),
    "unknown path": post(path="/v1/nothing"),
    "HTTP/1.2": post(version="1.2"),
    "repeated field": post(fields="Content-Type: application/json\r\nContent-Type: text/plain\r\n"),
    "repeated Content-Length": post().replace(b"Content-Length", b"Content-Length: %d\r\nContent-Length" % len(BODY)),
    "obs-fold": post(fields="X-A: one\r\n two\r\n"),
    "space before colon": post(fields="X-A : one\r\n"),
    "non-ASCII value": post(fields="X-A: caf\u00e9\r\n"),
    "control byte in value": post(fields="X-A: a\x01b\r\n"),
    "bare LF line ends": post().replace(b"\r\n", b"\n"),
    "chunked body": b"POST /v1/rerank HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(BODY),
    "chunked and Content-Length": (
        b"POST /v1/rerank HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunked(BODY)
    ),
    "gzip body": post(GZ, fields="Content-Encoding: gzip\r\n"),
    "expect 100-continue": post(fields="Expect: 100-continue\r\n"),
    "Content-Length not a number": post().replace(
        b"Content-Length: %d" % len(BODY), b"Content-Length: +%d" % len(BODY)
    ),
    "body over max_body_bytes": post(b"[" + b"1," * 3000 + b"1]"),
    "head over 8190 bytes": post(fields="X-Big: " + "a" * 9000 + "\r\n"),
    "pipelined three": post() + post(JINA) + post(fields="x-request-id: third\r\n"),
    "pipelined, then chunked": post()
    + b"POST /v1/rerank HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n"
    + chunked(JINA),
    "pipelined, then a health check": post() + b"GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n" + post(JINA),
    "bytes after close": post(fields="Connection: close\r\n") + post(),
    "leading empty line": b"\r\n" + post(),
    "GET healthz": b"GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n",
    "GET readyz, HTTP/1.0": b"GET /readyz HTTP/1.0\r\n\r\n",
    "GET models": b"GET /v1/models HTTP/1.1\r\nHost: gw\r\n\r\n",
    "GET openapi": b"GET /openapi.json HTTP/1.1\r\nHost: gw\r\n\r\n",
    "GET admin providers": b"GET /admin/providers HTTP/1.1\r\nHost: gw\r\n\r\n",
    "GET with Content-Length 0": b"GET /healthz HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\n\r\n",
    "GET with a body": b"GET /healthz HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\n\r\n{}",
    "HEAD healthz": b"HEAD /healthz HTTP/1.1\r\nHost: gw\r\n\r\n",
    "POST to a GET route": post(path="/healthz"),
    "128 header fields": post(fields="".join(f"x-{i}: v\r\n" for i in range(126))),
    "129 header fields": post(fields="".join(f"x-{i}: v\r\n" for i in range(127))),
    "Sec-WebSocket-Key1": post(fields="Sec-WebSocket-Key1: 1\r\n"),
    "Proxy-Connection close, then more": post(fields="Proxy-Connection: close\r\n") + post(JINA),
    "Proxy-Connection keep-alive, HTTP/1.0": post(fields="Proxy-Connection: keep-alive\r\n", version="1.0"),
    "pipelined GET, POST, GET": b"GET /v1/models HTTP/1.1\r\nHost: gw\r\n\r\n"
    + post()
    + b"GET /readyz HTTP/1.1\r\nHost: gw\r\n\r\n",
}

_BLANKS = [
    (re.compile(rb"Date: [^\r\n]*"), b"Date: -"),
    (re.compile(rb"x-request-id: [0-9a-f]{32}"), b"x-request-id: -"),
    (re.compile(rb'"id":"[0-9a-f-]{32,36}"'), b'"id":"-"'),
]


async def exchange(port: int, data: bytes) -> bytes:
    """Send `data` then a closing request; everything read until the gateway closes, ids blanked."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data + CLOSER)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    for pattern, blank in _BLANKS:
        answer = pattern.sub(blank, answer)
    return answer


@pytest.mark.parametrize("case", list(CASES))
async def test_fast_lane_answers_as_aiohttp_does(start_gateway: StartGateway, case: str) -> None:
    """The fast lane's answers to this case, and what it hands over, match aiohttp's answers alone."""
    fast = await start_gateway(CONFIG, fast_lane=True)
    general = await start_gateway(CONFIG, fast_lane=False)
    assert fast.port is not None
    assert general.port is not None
    expected = await exchange(general.port, CASES[case])
    assert expected.startswith(b"HTTP/1.")  # every case gets an answer from aiohttp
    assert await exchange(fast.port, CASES[case]) == expected


async def test_well_formed_requests_stay_in_the_fast_lane(start_gateway: StartGateway) -> None:
    """Plain rerank POSTs and GETs, alone and pipelined, are served with no handover; a chunked POST is handed over."""
    fast = await start_gateway(CONFIG, fast_lane=True)
    assert fast.port is not None
    for case in ("plain", "jina body", "http/1.0 keep-alive", "pipelined three", "invalid json", "GET models"):
        await exchange(fast.port, CASES[case])
    metrics = await (await fast.get("/metrics")).text()
    assert "rerank_gateway_fast_lane_handovers_total{" not in metrics
    await exchange(fast.port, CASES["chunked body"])
    metrics = await (await fast.get("/metrics")).text()
    assert 'rerank_gateway_fast_lane_handovers_total{reason="framing"} 1.0' in metrics


async def test_a_request_shorter_than_its_bytes_is_answered_before_the_stray_bytes(start_gateway: StartGateway) -> None:
    """A body shorter than what was sent gets its own answer, then the stray bytes get aiohttp's 400.

    Here the fast lane differs from aiohttp alone, which answers only the 400 for the stray bytes
    (its parser fails on them before the first request is handled): a client whose Content-Length
    is wrong learns what was wrong with the request it sent.
    """
    fast = await start_gateway(CONFIG, fast_lane=True)
    assert fast.port is not None
    short = post().replace(b"Length: %d" % len(BODY), b"Length: %d" % (len(BODY) - 3))
    answer = await exchange(fast.port, short)
    first, _, rest = answer.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json")
    assert b'"field":"$"' in rest
    assert b"HTTP/1.0 400 Bad Request" in rest
    assert b"Invalid method encountered" in rest


async def test_a_malformed_request_behind_good_ones_is_answered_after_them(start_gateway: StartGateway) -> None:
    """Good requests then a malformed one in one write: each good one is answered, then aiohttp's 400.

    aiohttp alone answers only the 400 (its parser fails on the write before any request in it is handled).
    """
    fast = await start_gateway(CONFIG, fast_lane=True)
    assert fast.port is not None
    answer = await exchange(fast.port, post() + post(JINA) + b"POST /v1/rerank HTTP/1.1\r\nHost: gw\r\nX-A : b\r\n\r\n")
    statuses = re.findall(rb"HTTP/1\.[01] (\d{3}) ", answer)
    assert statuses == [b"200", b"200", b"400"]
    assert b"Invalid header token" in answer


async def test_a_head_with_bare_line_feeds_is_answered_without_more_bytes(start_gateway: StartGateway) -> None:
    """A head whose lines end in LF alone never ends in CRLF CRLF: it is answered, not waited on."""
    fast = await start_gateway(CONFIG, fast_lane=True)
    general = await start_gateway(CONFIG, fast_lane=False)
    answers = []
    for port in (fast.port, general.port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(CASES["bare LF line ends"])
        answers.append(await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10))
        writer.close()
    assert answers[0].split(b"\r\n")[0] == answers[1].split(b"\r\n")[0]


async def test_metrics_answer_alike_in_both_lanes(start_gateway: StartGateway) -> None:
    """`GET /metrics` has the same status line and header fields in both lanes (its counts differ by lane)."""
    heads = []
    for fast_lane in (True, False):
        gateway = await start_gateway(CONFIG, fast_lane=fast_lane)
        assert gateway.port is not None
        answer = await exchange(gateway.port, b"GET /metrics HTTP/1.1\r\nHost: gw\r\n\r\n")
        head = answer.partition(b"\r\n\r\n")[0]
        heads.append(re.sub(rb"Content-Length: \d+", b"Content-Length: -", head))
        assert b"# TYPE rerank_gateway_requests_total counter" in answer
    assert heads[0] == heads[1]
