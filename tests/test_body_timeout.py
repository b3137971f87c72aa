"""A body still arriving holds no room, and one that does not all arrive within the longest deadline gets 408.

Room under `limits.max_bytes_in_flight` is taken once a body is all here: were it taken at the
head, a few clients that send a head and stall would hold all of it and every later request would
wait. Both servers (the fast lane and aiohttp's) answer alike.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from tests.conftest import StartGateway

CONFIG: dict[str, Any] = {
    "providers": {"local": {"type": "local"}},
    "models": {"m": {"type": "rerank", "providers": [{"provider": "local", "model": "bm25"}]}},
    "request_timeout": 0.5,
    "limits": {"max_bytes_in_flight": 1000},
}
BODY = orjson.dumps({"model": "m", "query": "apple", "documents": ["apple", "pear"]})


def head(length: int) -> bytes:
    return f"POST /v1/rerank HTTP/1.1\r\nHost: gw\r\nContent-Length: {length}\r\n\r\n".encode()


async def answer_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """Status, header fields (lower-case names) and body of one answer."""
    lines = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)).decode().split("\r\n")
    fields = dict(line.split(": ", 1) for line in lines[1:] if line)
    fields = {k.lower(): v for k, v in fields.items()}
    body = await asyncio.wait_for(reader.readexactly(int(fields["content-length"])), timeout=10)
    return int(lines[0].split()[1]), fields, body


async def sent(client: Any, data: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A new connection to the gateway on which `data` has been sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    writer.write(data)
    await writer.drain()
    return reader, writer


async def bytes_in_flight(client: Any) -> float:
    text = await (await client.get("/metrics")).text()
    [line] = [x for x in text.splitlines() if x.startswith("rerank_gateway_request_bytes_in_flight ")]
    return float(line.split()[1])


@pytest.mark.parametrize("fast_lane", [True, False], ids=["fast lane", "aiohttp"])
async def test_a_stalled_body_gets_408_naming_the_body(start_gateway: StartGateway, fast_lane: bool) -> None:
    """A head whose body stops half way is answered 408 once the longest deadline has passed."""
    client = await start_gateway(CONFIG, fast_lane=fast_lane)
    reader, writer = await sent(client, head(len(BODY)) + BODY[:10])
    status, _, body = await answer_head(reader)
    writer.close()
    assert status == 408
    error = orjson.loads(body)
    assert error["field"] == "$"
    assert "did not all arrive within 0.5 s" in error["message"]
    assert await bytes_in_flight(client) == 0


@pytest.mark.parametrize("fast_lane", [True, False], ids=["fast lane", "aiohttp"])
async def test_a_408_ends_the_connection(start_gateway: StartGateway, fast_lane: bool) -> None:
    """The 408 says `Connection: close`, and the connection ends even if the rest of that body then comes."""
    client = await start_gateway(CONFIG, fast_lane=fast_lane)
    reader, writer = await sent(client, head(len(BODY)) + BODY[:10])
    status, fields, _ = await answer_head(reader)
    try:
        writer.write(BODY[10:] + head(len(BODY)) + BODY)  # the late rest, and a request that must not be served
        await writer.drain()
        rest = await asyncio.wait_for(reader.read(), timeout=10)
    except ConnectionError:  # closed already: the write was reset
        rest = b""
    writer.close()
    assert (status, fields.get("connection"), rest) == (408, "close", b"")


@pytest.mark.parametrize("fast_lane", [True, False], ids=["fast lane", "aiohttp"])
async def test_stalled_heads_declaring_all_the_room_block_nobody(start_gateway: StartGateway, fast_lane: bool) -> None:
    """Heads that declare more than all the room and stall hold none: a whole request meanwhile is served at once."""
    client = await start_gateway(CONFIG, fast_lane=fast_lane)
    stalled = [await sent(client, head(990) + b"{") for _ in range(3)]
    reader, writer = await sent(client, head(len(BODY)) + BODY)
    status, fields, body = await answer_head(reader)
    writer.close()
    assert status == 200, body
    assert fields["x-rerank-provider"] == "local"
    for stalled_reader, stalled_writer in stalled:  # answered only when their deadline has passed
        assert (await answer_head(stalled_reader))[0] == 408
        stalled_writer.close()
    assert await bytes_in_flight(client) == 0
