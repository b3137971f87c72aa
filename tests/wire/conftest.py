"""Fixtures for the pooled HTTP/1.1 client: byte-scripted loopback servers and pools that are closed after each test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from yarl import URL

from gateway.providers.wire import Pool
from tests.fakes.tcp import Handler, read_request

MakePool = Callable[..., Pool]

#: A minimal valid answer, for tests about framing rather than content.
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


@pytest.fixture
async def make_pool() -> AsyncIterator[MakePool]:
    """Build pools to a base URL (posting to /v1/rerank); each is closed after the test."""
    pools: list[Pool] = []

    def make(base: str, **options: Any) -> Pool:
        settings: dict[str, Any] = {"limit": 8, "connect_timeout": 5.0, "cap": 1024 * 1024, **options}
        pool = Pool(
            url=URL(base + "/v1/rerank"), headers={"Content-Type": "application/json"}, ssl_context=None, **settings
        )
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        await pool.close()


def replies(*answers: bytes | Sequence[bytes], gap: float = 0.005, hold: bool = True) -> Handler:
    """A handler that answers the requests on each connection in turn, each answer as given.

    An answer given as a sequence of pieces is written piece by piece with a short pause between,
    so the client sees them in separate reads; after the last answer the connection is held open
    until the client closes it (`hold`), or closed at once.
    """

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for answer in answers:
            await read_request(reader)
            pieces = [answer] if isinstance(answer, bytes) else answer
            for i, piece in enumerate(pieces):
                if i:
                    await asyncio.sleep(gap)
                writer.write(piece)
                await writer.drain()
        if hold:
            await reader.read()

    return handle


def forever(answer: bytes) -> Handler:
    """A handler that gives every request on a connection the same answer, for as long as it stays open."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(answer)
            await writer.drain()

    return handle
