"""The pooled client: an answer that arrives for a call already cancelled is dropped quietly."""

from __future__ import annotations

import asyncio

from gateway.providers.wire.connection import Connection
from tests.fakes.tcp import StartRaw
from tests.wire.conftest import OK, forever


async def test_answer_after_cancellation_closes_the_connection(start_raw: StartRaw) -> None:
    """A call cancelled in the loop iteration its answer arrives in: no error out of data_received, no reuse."""
    _, url = await start_raw(forever(OK))
    host, port = url.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    lost: list[Connection] = []
    _, conn = await loop.create_connection(lambda: Connection(loop, cap=1024, on_lost=lost.append), host, int(port))
    head = b"POST /v1/rerank HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n"
    waiter = conn.exchange((head, b"{}"), deadline=loop.time() + 10)
    waiter.cancel()  # what a cancelled task does to the future it awaits, before its own step runs
    conn.data_received(OK)  # the answer, handed over by the loop in the same iteration
    assert waiter.cancelled()
    assert conn.closed
    assert not conn.reusable
