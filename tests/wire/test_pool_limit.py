"""The pooled client: never more connections than the limit, however many calls run at once."""

from __future__ import annotations

import asyncio

import pytest

from gateway.errors import ProviderError
from tests.fakes.tcp import StartRaw, read_request
from tests.wire.conftest import OK, MakePool


async def test_concurrent_calls_wait_for_a_free_connection(start_raw: StartRaw, make_pool: MakePool) -> None:
    """Twenty calls at once over a limit of three: all answered, over at most three connections."""
    open_now = 0
    most = 0
    release = asyncio.Event()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now, most
        open_now += 1
        most = max(most, open_now)
        try:
            while True:
                await read_request(reader)
                await release.wait()  # hold the first calls until every call is queued
                writer.write(OK)
                await writer.drain()
        finally:
            open_now -= 1

    raw, url = await start_raw(slow)
    pool = make_pool(url, limit=3)
    calls = [asyncio.create_task(pool.post(b"{}", timeout=30)) for _ in range(20)]
    await asyncio.sleep(0.05)
    release.set()
    answers = await asyncio.gather(*calls)
    assert [a.body for a in answers] == [b"{}"] * 20
    assert raw.connections <= 3
    assert most <= 3


async def test_no_free_connection_within_the_timeout_is_a_timeout(start_raw: StartRaw, make_pool: MakePool) -> None:
    """With the only connection busy past a call's timeout, that call fails as a timeout and opens nothing."""
    got_request = asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        got_request.set()
        await reader.read()

    raw, url = await start_raw(hold)
    pool = make_pool(url, limit=1)
    busy = asyncio.create_task(pool.post(b"{}", timeout=30))
    await got_request.wait()
    with pytest.raises(ProviderError) as error:
        await pool.post(b"{}", timeout=0.1)
    assert error.value.kind == "timeout"
    assert raw.connections == 1
    busy.cancel()
