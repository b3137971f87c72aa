"""Fault: the primary sends its answer one byte at a time, slower than any deadline allows."""

from __future__ import annotations

import asyncio

from tests.conftest import StartFake, StartGateway
from tests.fakes.tcp import StartRaw, cohere_answer, read_request
from tests.faults.conftest import BODY, failover, outcomes


async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Headers at once, then the body a byte every 50 ms: each read succeeds, the whole never ends in time."""
    _, body = await read_request(reader)
    answer = cohere_answer(body)
    writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(answer)}\r\n\r\n".encode())
    for byte in answer:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0.05)


async def test_slow_drip_is_cut_by_the_total_timeout(
    start_raw: StartRaw, start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """The provider's total timeout bounds the whole read, so the drip fails over; alone it is a timeout."""
    _, primary_url = await start_raw(drip)
    _, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url, "timeout": 0.3}, backup_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "backup"
    alone = await start_gateway(failover({"base_url": primary_url, "timeout": 0.3}))
    resp = await alone.post("/v1/rerank", json=BODY)
    assert resp.status == 502
    assert outcomes(await resp.json()) == ["timeout"]
