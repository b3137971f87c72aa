"""Fault: the primary answers with bytes that are not HTTP."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import StartFake, StartGateway
from tests.fakes.tcp import StartRaw, read_request
from tests.faults.conftest import BODY, failover, outcomes

GARBAGE = {
    "bad status line": b"HTTP/1.1 OK-ish\r\n\r\n",
    "not http at all": b"SSH-2.0-OpenSSH_9.6\r\n",
    "bad header": b"HTTP/1.1 200 OK\r\nContent-Length: banana\r\n\r\n{}",
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
async def test_malformed_http_fails_over(
    name: str, start_raw: StartRaw, start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """Whatever the garbage, the primary counts as failed and the backup answers; alone it is a 502."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(GARBAGE[name])
        await writer.drain()

    _, primary_url = await start_raw(answer)
    _, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url}, backup_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "backup"
    alone = await start_gateway(failover({"base_url": primary_url}))
    resp = await alone.post("/v1/rerank", json=BODY)
    assert resp.status == 502
    assert outcomes(await resp.json()) == ["bad_http"]
