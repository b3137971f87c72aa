"""The pooled client: the call's timeout and cancellation end the call and close its connection."""

from __future__ import annotations

import asyncio

import pytest

from gateway.errors import ProviderError
from tests.fakes.tcp import StartRaw, read_request
from tests.wire.conftest import OK, MakePool


async def test_timeout_mid_body_closes_the_connection(start_raw: StartRaw, make_pool: MakePool) -> None:
    """A body that stops coming is a timeout; the next call gets a fresh connection, not the half-read one."""
    calls = 0

    async def stall_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal calls
        while True:
            await read_request(reader)
            calls += 1
            if calls == 1:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{")
            else:
                writer.write(OK)
            await writer.drain()

    raw, url = await start_raw(stall_first)
    pool = make_pool(url)
    with pytest.raises(ProviderError) as error:
        await pool.post(b"{}", timeout=0.2)
    assert error.value.kind == "timeout"
    assert (await pool.post(b"{}", timeout=10)).body == b"{}"
    assert raw.connections == 2


async def test_cancelled_call_closes_the_connection(start_raw: StartRaw, make_pool: MakePool) -> None:
    """A call cancelled while waiting for its answer leaves no connection behind for the next call."""
    got_request = asyncio.Event()
    calls = 0

    async def answer_later(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal calls
        while True:
            await read_request(reader)
            calls += 1
            got_request.set()
            if calls > 1:
                writer.write(OK)
                await writer.drain()

    raw, url = await start_raw(answer_later)
    pool = make_pool(url, limit=1)
    call = asyncio.create_task(pool.post(b"{}", timeout=30))
    await got_request.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert (await pool.post(b"{}", timeout=10)).body == b"{}"
    assert raw.connections == 2
