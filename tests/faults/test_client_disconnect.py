"""Fault: the client hangs up while the gateway is waiting on an upstream."""

from __future__ import annotations

import asyncio

import orjson

from tests.conftest import StartFake, StartGateway
from tests.fakes.upstream import hang
from tests.faults.conftest import BODY, failover


async def eventually(condition: object, what: str) -> None:
    """Wait (up to 10 s) until `condition()` is true."""
    assert callable(condition)
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_disconnect_cancels_the_upstream_call_and_stops_failover(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """Closing the client socket cancels the in-flight upstream call, and no backup attempt starts."""
    primary, primary_url = await start_fake("cohere", default=hang())
    backup, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url, "timeout": 30}, backup_url, timeout=30))
    assert client.server.host is not None
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    body = orjson.dumps(BODY)
    head = (
        f"POST /v1/rerank HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()
    await eventually(lambda: primary.calls == 1, "the primary got the request")
    writer.close()
    await writer.wait_closed()
    await eventually(lambda: primary.cancelled == 1, "the primary's call was cancelled")
    await asyncio.sleep(0.2)  # room for a wrong failover to show up
    assert backup.calls == 0
    assert reader.at_eof() or not await reader.read()
