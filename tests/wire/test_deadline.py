"""The pooled client: the call's timeout and cancellation end the call and close its connection."""

from __future__ import annotations

import asyncio

import pytest

from gateway.errors import ProviderError
from tests.fakes.tcp import Handler, StartRaw, read_request
from tests.wire.conftest import OK, MakePool


def first_then_ok(first: bytes, *, arrived: asyncio.Event | None = None) -> Handler:
    """A handler whose server answers its first request (on any connection) with `first`, the rest with OK.

    `arrived` is set as each request is read.
    """
    calls = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal calls
        while True:
            await read_request(reader)
            calls += 1
            if arrived is not None:
                arrived.set()
            answer = first if calls == 1 else OK
            if answer:
                writer.write(answer)
                await writer.drain()

    return handle


async def test_timeout_mid_body_closes_the_connection(start_raw: StartRaw, make_pool: MakePool) -> None:
    """A body that stops coming is a timeout; the next call gets a fresh connection, not the half-read one."""
    raw, url = await start_raw(first_then_ok(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{"))
    pool = make_pool(url)
    with pytest.raises(ProviderError) as error:
        await pool.post(b"{}", timeout=0.2)
    assert error.value.kind == "timeout"
    assert (await pool.post(b"{}", timeout=10)).body == b"{}"
    assert raw.connections == 2


async def test_cancelled_call_closes_the_connection(start_raw: StartRaw, make_pool: MakePool) -> None:
    """A call cancelled while waiting for its answer leaves no connection behind for the next call."""
    got_request = asyncio.Event()
    raw, url = await start_raw(first_then_ok(b"", arrived=got_request))  # the first request gets no answer
    pool = make_pool(url, limit=1)
    call = asyncio.create_task(pool.post(b"{}", timeout=30))
    await got_request.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert (await pool.post(b"{}", timeout=10)).body == b"{}"
    assert raw.connections == 2
