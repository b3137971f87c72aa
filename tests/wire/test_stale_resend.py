"""The pooled client: a reused connection closed by the server while idle is replaced, once."""

from __future__ import annotations

import asyncio

import pytest

from gateway.errors import ProviderError
from tests.fakes.tcp import StartRaw, read_request
from tests.wire.conftest import OK, MakePool


async def test_request_on_a_dropped_connection_is_sent_again(start_raw: StartRaw, make_pool: MakePool) -> None:
    """Each connection answers once, then hangs up under the next request: every call still succeeds."""

    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        await read_request(reader)

    raw, url = await start_raw(once)
    pool = make_pool(url)
    for _ in range(3):
        assert (await pool.post(b"{}", timeout=10)).body == b"{}"
    assert raw.connections == 3


async def test_fresh_connection_dropped_is_not_sent_again(start_raw: StartRaw, make_pool: MakePool) -> None:
    """A new connection that ends without an answer is a failure: only reused connections are retried."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    raw, url = await start_raw(hang_up)
    with pytest.raises(ProviderError) as error:
        await make_pool(url).post(b"{}", timeout=10)
    assert error.value.kind == "disconnected"
    assert raw.connections == 1
