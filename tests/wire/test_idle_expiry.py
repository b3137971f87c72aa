"""The pooled client: idle connections older than the keep-alive time are closed, not reused."""

from __future__ import annotations

import asyncio

from tests.fakes.tcp import StartRaw, read_request
from tests.wire.conftest import OK, MakePool


async def test_expired_idle_connections_are_closed_and_replaced(start_raw: StartRaw, make_pool: MakePool) -> None:
    """With no keep-alive time, every call opens a new connection and the client closes each idle one."""
    closed_by_client = asyncio.Queue[None]()

    async def answer_then_wait(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        assert await reader.read() == b""  # nothing more is sent: the next call does not reuse this one
        closed_by_client.put_nowait(None)

    raw, url = await start_raw(answer_then_wait)
    pool = make_pool(url, keepalive=0.0)
    for _ in range(3):
        assert (await pool.post(b"{}", timeout=10)).body == b"{}"
    for _ in range(3):
        await asyncio.wait_for(closed_by_client.get(), timeout=10)
    assert raw.connections == 3
