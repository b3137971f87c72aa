"""A small forward HTTP proxy on loopback, to show which calls went through a proxy.

It takes absolute-form requests (`POST http://host:port/path HTTP/1.1`), records the target,
forwards the request in origin form with `Connection: close`, and pipes the answer back.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import attrs

from tests.fakes.tcp import RawUpstream, read_request


@attrs.define
class ForwardProxy:
    """The proxy's state: the absolute URLs it was asked for."""

    seen: list[str] = attrs.field(factory=list)
    _raw: RawUpstream | None = None

    async def start(self) -> str:
        """Listen on a free loopback port; return the proxy URL."""
        self._raw = RawUpstream(self._serve)
        return await self._raw.start()

    async def close(self) -> None:
        """Stop listening."""
        if self._raw is not None:
            await self._raw.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, body = await read_request(reader)
        request_line, *fields = head.decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ")
        self.seen.append(target)
        url = urlsplit(target)
        kept = [f for f in fields if f and not f.lower().startswith(("connection:", "proxy-"))]
        upstream = [f"{method} {url.path or '/'} {version}", *kept, "Connection: close", "", ""]
        up_reader, up_writer = await asyncio.open_connection(url.hostname, url.port or 80)
        up_writer.write("\r\n".join(upstream).encode("latin-1") + body)
        await up_writer.drain()
        writer.write(await up_reader.read())
        await writer.drain()
        up_writer.close()
