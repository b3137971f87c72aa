"""The pooled client on uvloop, the event loop `gateway serve` runs on."""

from __future__ import annotations

import asyncio

import pytest
from yarl import URL

from gateway.providers.wire import Pool
from tests.fakes.tcp import RawUpstream
from tests.wire.conftest import OK, forever

uvloop = pytest.importorskip("uvloop")


def test_calls_on_uvloop_share_a_kept_alive_connection() -> None:
    """On a uvloop loop, three calls are answered over one connection."""

    async def scenario() -> tuple[list[bytes | None], int]:
        raw = RawUpstream(forever(OK))
        url = await raw.start()
        pool = Pool(url=URL(url + "/v1/rerank"), headers={}, ssl_context=None, limit=4, connect_timeout=5, cap=1024)
        try:
            bodies = [(await pool.post(b"{}", timeout=10)).body for _ in range(3)]
        finally:
            await pool.close()
            await raw.close()
        return bodies, raw.connections

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        bodies, connections = runner.run(scenario())
    assert bodies == [b"{}"] * 3
    assert connections == 1
