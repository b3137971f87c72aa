"""Byte-level fake upstreams: a loopback TCP server whose connections a test scripts by hand.

For the faults an HTTP framework cannot produce on purpose: malformed status lines, a body cut
short, a reset before the headers, a slow drip, a kept-alive connection dropped under a request.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from contextlib import suppress

import attrs
import orjson

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@attrs.define
class RawUpstream:
    """A TCP server on 127.0.0.1 that hands each connection to `handler` and counts them."""

    handler: Handler
    connections: int = 0
    requests: list[bytes] = attrs.field(factory=list)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = attrs.field(factory=set)

    async def start(self) -> str:
        """Listen on a free port; return the base URL."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        """Stop listening and end every connection still open."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()


#: The `start_raw` fixture (tests/conftest.py): start a RawUpstream, get it and its base URL.
StartRaw = Callable[[Handler], Awaitable[tuple[RawUpstream, str]]]


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """Read one HTTP/1.1 request: its head (request line and headers) and its Content-Length body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return head, await reader.readexactly(length)


def response(body: bytes, *, status: str = "200 OK", headers: dict[str, str] | None = None) -> bytes:
    """An HTTP/1.1 response with a JSON content type and a correct Content-Length."""
    fields = {"Content-Type": "application/json", "Content-Length": str(len(body)), **(headers or {})}
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in fields.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def cohere_answer(request_body: bytes) -> bytes:
    """A correct Cohere answer for a request: every document, scored by position."""
    n = len(orjson.loads(request_body)["documents"])
    results = [{"index": i, "relevance_score": 1.0 - i / (n + 1)} for i in range(n)]
    return orjson.dumps({"id": "raw", "results": results, "meta": {"billed_units": {"search_units": 1}}})


@attrs.define
class BlackHole:
    """A loopback port where TCP connects hang: a listener with a full accept queue.

    Linux drops a SYN while the listen backlog is full, so a connect neither succeeds nor fails
    until the client gives up. `listen(0)` leaves room for one queued connection; filler sockets
    take it (and then some), and the listener never accepts.
    """

    listener: socket.socket = attrs.field(factory=socket.socket)
    fillers: list[socket.socket] = attrs.field(factory=list)

    def open(self) -> str:
        """Bind, listen and fill the queue; return the base URL."""
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        port = self.listener.getsockname()[1]
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            with suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            self.fillers.append(filler)
        return f"http://127.0.0.1:{port}"

    def close(self) -> None:
        """Close the fillers and the listener."""
        for s in [*self.fillers, self.listener]:
            s.close()
