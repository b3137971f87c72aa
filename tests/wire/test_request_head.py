"""The pooled client: what goes on the wire for one call."""

from __future__ import annotations

import asyncio

from tests.fakes.tcp import Handler, StartRaw, read_request
from tests.wire.conftest import OK, MakePool


def recording(seen: list[tuple[bytes, bytes]]) -> Handler:
    """A handler that keeps each request's head and body in `seen` and answers OK."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(OK)
        await writer.drain()

    return handle


async def test_request_carries_head_and_body(start_raw: StartRaw, make_pool: MakePool) -> None:
    """The request is a POST to the URL's path with Host, the configured headers and an exact Content-Length."""
    seen: list[tuple[bytes, bytes]] = []
    _, url = await start_raw(recording(seen))
    await make_pool(url).post(b'{"q": 1}', timeout=10)
    head, body = seen[0]
    text = head.decode()
    assert text.startswith("POST /v1/rerank HTTP/1.1\r\n")
    assert f"Host: {url.removeprefix('http://')}\r\n" in text
    assert "Content-Type: application/json\r\n" in text
    assert "Content-Length: 8\r\n" in text
    assert body == b'{"q": 1}'


async def test_credentials_in_the_url_become_basic_auth(start_raw: StartRaw, make_pool: MakePool) -> None:
    """A URL with user:password sends them as Basic auth, never in the request line."""
    seen: list[tuple[bytes, bytes]] = []
    _, url = await start_raw(recording(seen))
    await make_pool(url.replace("http://", "http://ann:s3cret@")).post(b"{}", timeout=10)
    text = seen[0][0].decode()
    assert "Authorization: Basic YW5uOnMzY3JldA==\r\n" in text
    assert text.startswith("POST /v1/rerank HTTP/1.1\r\n")
    assert "s3cret" not in text
