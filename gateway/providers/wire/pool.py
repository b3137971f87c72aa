"""A per-provider pool of keep-alive HTTP/1.1 connections, and the POST that runs on it.

Idle connections are kept last-in first-out (the warmest first) for `keepalive` seconds; at most
`limit` connections exist at once, and a call waits for a free one within its own timeout. A call
whose reused connection turns out to have been closed by the server while idle is sent once more
on a fresh connection: that is the server's keep-alive expiry, not a failure of the upstream.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections import deque
from collections.abc import Callable, Mapping

import attrs
from yarl import URL

from gateway import __version__
from gateway.errors import ProviderError
from gateway.providers.wire.connection import Connection, Response, Stale


def request_head(url: URL, headers: Mapping[str, str]) -> bytes:
    """Everything of a POST to `url` up to the Content-Length value, built once per provider."""
    host = url.raw_host or ""
    if ":" in host:
        host = f"[{host}]"
    if not url.is_default_port():
        host = f"{host}:{url.port}"
    fields = {"Host": host, "User-Agent": f"rerank-gateway/{__version__}", "Accept-Encoding": "gzip, deflate"}
    if url.user is not None and not any(name.lower() == "authorization" for name in headers):
        # Credentials in the URL (https://user:pass@host/...) mean Basic auth, as aiohttp sends them.
        pair = f"{url.user}:{url.password or ''}".encode("latin-1")
        fields["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    fields.update(headers)
    lines = [f"POST {url.raw_path_qs} HTTP/1.1"]
    for name, value in fields.items():
        if any(c in name + value for c in "\r\n\0") or not name or ":" in name:
            raise ValueError(f"header {name!r} cannot be sent: it holds a line break, NUL or colon")
        lines.append(f"{name}: {value}")
    lines.append("Content-Length: ")
    return "\r\n".join(lines).encode("latin-1")


@attrs.define
class Pool:
    """Pooled keep-alive connections to one upstream URL; `post` sends one request on one of them."""

    url: URL
    headers: Mapping[str, str]
    ssl_context: ssl.SSLContext | None
    limit: int
    connect_timeout: float
    #: Cap on the decoded body, in bytes.
    cap: int
    keepalive: float = 30.0
    _loop: asyncio.AbstractEventLoop = attrs.field(init=False)
    _head: bytes = attrs.field(init=False)
    _idle: list[Connection] = attrs.field(init=False, factory=list)
    #: Connections that exist or are being opened, idle or busy.
    _count: int = attrs.field(init=False, default=0)
    _waiters: deque[asyncio.Future[None]] = attrs.field(init=False, factory=deque)
    _sweeper: asyncio.TimerHandle | None = attrs.field(init=False, default=None)
    _closed: bool = attrs.field(init=False, default=False)

    def __attrs_post_init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._head = request_head(self.url, self.headers)

    async def post(self, body: bytes | Callable[[], bytes], *, timeout: float) -> Response:
        """POST `body`; the response, or a ProviderError (connect, timeout, framing, size) within `timeout`.

        `body` may be a function that makes it: it is then called once a connection is in hand and
        again only to re-send after a stale connection, so no reference to the body is kept while
        the upstream works (a third of a megabyte for 1,000 documents, per waiting request).
        """
        loop = self._loop
        deadline = loop.time() + timeout
        conn = self._take_idle() or await self._acquire(deadline)
        try:
            response = await conn.exchange(self._request(body), deadline=deadline)
        except Stale:
            # The slot stays taken: the stale connection is replaced, not given back.
            conn = await self._connect(deadline)
            try:
                response = await conn.exchange(self._request(body), deadline=deadline)
            except BaseException:
                self._drop(conn)
                raise
        except BaseException:
            self._drop(conn)
            raise
        self._release(conn)
        return response

    def _request(self, body: bytes | Callable[[], bytes]) -> tuple[bytes, bytes]:
        """Head and body, to go out in one writelines: no joined copy of a body that can be megabytes."""
        data = body if isinstance(body, bytes) else body()
        return self._head + str(len(data)).encode() + b"\r\n\r\n", data

    @property
    def closed(self) -> bool:
        """Whether `close` has been called."""
        return self._closed

    async def close(self) -> None:
        """Close idle connections now and busy ones when their call ends."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        while self._idle:
            self._idle.pop().close()
        self._count = 0

    def _take_idle(self) -> Connection | None:
        idle = self._idle
        while idle:
            conn = idle.pop()
            if not conn.closed and self._loop.time() - conn.idle_since < self.keepalive:
                conn.reused = True
                return conn
            self._drop(conn)
        return None

    async def _acquire(self, deadline: float) -> Connection:
        while True:
            conn = self._take_idle()
            if conn is not None:
                return conn
            if self._count < self.limit:
                self._count += 1
                return await self._connect(deadline)
            await self._wait(deadline)

    async def _wait(self, deadline: float) -> None:
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout_at(deadline):
                await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self._wake()  # woken but leaving: hand the free slot to the next caller in line
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise ProviderError("timeout", retryable=True, detail="no free connection") from None
            raise

    async def _connect(self, deadline: float) -> Connection:
        """Open a connection for a slot already counted; the slot is given back if this fails."""
        loop = self._loop
        url = self.url
        host = url.raw_host or ""
        try:
            async with asyncio.timeout_at(min(loop.time() + self.connect_timeout, deadline)):
                _, conn = await loop.create_connection(
                    self._protocol,
                    host,
                    url.port or (443 if self.ssl_context is not None else 80),
                    ssl=self.ssl_context,
                    server_hostname=host if self.ssl_context is not None else None,
                )
        except BaseException as exc:
            self._count -= 1
            self._wake()
            error = _connect_error(exc)
            if error is exc:
                raise
            raise error from None
        return conn

    def _protocol(self) -> Connection:
        return Connection(self._loop, cap=self.cap, on_lost=self._lost)

    def _release(self, conn: Connection) -> None:
        if not conn.reusable or conn.closed or self._closed:
            self._drop(conn)
            return
        conn.idle_since = self._loop.time()
        self._idle.append(conn)
        if self._sweeper is None:
            self._sweeper = self._loop.call_at(conn.idle_since + self.keepalive, self._sweep)
        self._wake()

    def _drop(self, conn: Connection) -> None:
        """Close a connection taken out of the pool and give its slot back."""
        conn.close()
        if not self._closed:
            self._count -= 1
        self._wake()

    def _lost(self, conn: Connection) -> None:
        """The server closed a connection while it sat idle: forget it."""
        if conn in self._idle:
            self._idle.remove(conn)
            self._drop(conn)

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _sweep(self) -> None:
        """Close connections idle for longer than `keepalive`; the oldest are at the bottom of the stack."""
        self._sweeper = None
        now = self._loop.time()
        idle = self._idle
        while idle and now - idle[0].idle_since >= self.keepalive:
            self._drop(idle.pop(0))
        if idle:
            self._sweeper = self._loop.call_at(idle[0].idle_since + self.keepalive, self._sweep)


def _connect_error(exc: BaseException) -> BaseException:
    """The ProviderError for a failed connect, with the kinds the router knows."""
    if isinstance(exc, TimeoutError):
        # Nothing reached the host: fail over at once rather than wait another connect timeout.
        return ProviderError("connect_timeout", retryable=False)
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        # A certificate problem is configuration: the same call would fail again.
        return ProviderError("tls_error", retryable=False, detail=type(exc).__name__)
    if isinstance(exc, OSError):
        # Refused or unreachable: a retry at once would meet the same closed port; fail over instead.
        return ProviderError("connect_error", retryable=False)
    return exc
