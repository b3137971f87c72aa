"""A client that stops reading its answer holds nothing but its own connection."""

from __future__ import annotations

import asyncio
import socket

import orjson

from tests.conftest import StartGateway, model
from tests.test_metrics import until_sample


async def test_a_client_that_stops_reading_is_no_longer_counted_in_flight(start_gateway: StartGateway) -> None:
    """Once its answer is made, a request whose client reads none of it leaves the in-flight count.

    Were it counted until its answer is written, it would also hold up the retirement of the old
    config after a reload (which waits for the requests that started on it) for as long as the
    client likes.
    """
    client = await start_gateway({"providers": {"l": {"type": "local"}}, "models": {"m": model(("l", "bm25"))}})
    documents = [f"document {i} " + "word " * 3200 for i in range(320)]  # a 5 MB answer: more than the buffers
    body = orjson.dumps({"model": "m", "query": "word", "documents": documents, "return_documents": True})
    head = (
        "POST /v1/rerank HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # and never read: the write cannot finish
    stalled.setblocking(False)
    loop = asyncio.get_running_loop()
    try:
        await loop.sock_connect(stalled, ("127.0.0.1", client.server.port))
        await loop.sock_sendall(stalled, head.encode() + body)
        await until_sample(client, "rerank_gateway_in_flight_requests", 1)  # its body read, being ranked
        await until_sample(client, "rerank_gateway_in_flight_requests", 0)  # its answer made, not read
    finally:
        stalled.close()
