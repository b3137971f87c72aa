"""Fault: a kept-alive connection that the upstream drops under the next request."""

from __future__ import annotations

import asyncio

from tests.conftest import StartGateway
from tests.fakes.tcp import StartRaw, cohere_answer, read_request, response
from tests.faults.conftest import BODY, failover


async def one_per_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer the first request with keep-alive, then read the next one and hang up without a reply."""
    _, body = await read_request(reader)
    writer.write(response(cohere_answer(body)))
    await writer.drain()
    await read_request(reader)


async def test_dropped_pooled_connection_is_retried_on_a_fresh_one(
    start_raw: StartRaw, start_gateway: StartGateway
) -> None:
    """The second request meets the stale connection, is sent again on a new one, and succeeds in one attempt."""
    raw, url = await start_raw(one_per_connection)
    # No retries: the provider's client resends on a fresh connection itself, without spending an attempt.
    client = await start_gateway(failover({"base_url": url, "max_retries": 0}))
    first = await client.post("/v1/rerank", json=BODY)
    assert first.status == 200
    second = await client.post("/v1/rerank", json=BODY)
    assert second.status == 200
    assert second.headers["x-rerank-attempts"] == "1"
    assert raw.connections == 2
