"""Fault: the primary sends headers and part of the body, then closes the connection."""

from __future__ import annotations

import asyncio

from tests.conftest import StartFake, StartGateway
from tests.fakes.tcp import StartRaw, read_request
from tests.faults.conftest import BODY, failover, outcomes


async def cut_short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Promise 1000 bytes of JSON, send 20, hang up."""
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
    writer.write(b'{"results": [{"inde')
    await writer.drain()


async def test_body_cut_short_fails_over(
    start_raw: StartRaw, start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A truncated body is never parsed as an answer: the backup answers, and alone it is a 502."""
    _, primary_url = await start_raw(cut_short)
    _, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url}, backup_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "backup"
    alone = await start_gateway(failover({"base_url": primary_url}))
    resp = await alone.post("/v1/rerank", json=BODY)
    assert resp.status == 502
    assert outcomes(await resp.json()) == ["disconnected"]
