"""One keep-alive HTTP/1.1 connection: an asyncio Protocol that runs one exchange at a time.

The response is parsed as bytes arrive (no stream objects, no reader task): `exchange` writes the
whole request and returns a future that `data_received` resolves with the response, or that fails
with a ProviderError (`bad_http`, `disconnected`, `timeout`, the size cap).
"""

from __future__ import annotations

import asyncio
import socket
from contextlib import suppress
from typing import Any, cast

import attrs

from gateway.errors import ProviderError
from gateway.providers.wire import parse

_HEAD, _LENGTH, _CHUNKED, _TO_CLOSE, _DONE = range(5)


class Stale(Exception):
    """A reused connection ended before any byte of the response: the request may be sent again."""


@attrs.frozen
class Response:
    """A complete response: status, lower-cased headers and the decoded body (None when not read)."""

    status: int
    headers: dict[str, str]
    body: bytes | None


def disconnected(detail: str) -> ProviderError:
    """The error for a connection that ended before the response was complete."""
    return ProviderError("disconnected", retryable=True, detail=detail)


class Connection(asyncio.Protocol):
    """A pooled connection to one upstream; the pool owns it, one request runs on it at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, cap: int, on_lost: Any) -> None:
        self.loop = loop
        self.cap = cap
        self._on_lost = on_lost
        self.transport: asyncio.Transport | None = None
        self.closed = False
        #: Safe to send another request on: the last response was read to its end and allowed it.
        self.reusable = False
        self.reused = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[Response] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._state = _DONE
        self._seen = False
        self._buffer = bytearray()
        self._head: parse.Head | None = None
        #: A body read in several pieces, in one buffer: a body dripped a few bytes per read must
        #: not cost an object per read (its memory would be many times the size cap).
        self._parts = bytearray()
        self._size = 0
        self._remaining = 0
        self._chunked: parse.Chunked | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio.Transport, but they have its methods.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # One write per request, but a large body's last segment must not wait for an ACK.
            with suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            self._on_lost(self)
            return
        if self._state == _TO_CLOSE and exc is None:
            self._finish(bytes(self._parts), reusable=False)
        elif not self._seen and self.reused:
            self._fail(Stale())
        elif self._state == _HEAD and self._buffer and not parse.could_be_http(self._buffer):
            self._fail(parse.bad_http("not an HTTP response"))
        else:
            self._fail(disconnected("connection closed before the response was complete"))

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._state == _DONE:
            # Bytes nobody asked for: the connection's framing can no longer be trusted.
            self.close()
            return
        self._seen = True
        try:
            self._feed(data)
        except ProviderError as error:
            self._fail(error)

    def eof_received(self) -> bool | None:
        self.closed = True  # never handed out again; connection_lost decides what the EOF meant
        return None  # close our side too

    # the exchange

    def exchange(self, data: tuple[bytes, bytes], *, deadline: float) -> asyncio.Future[Response]:
        """Send one whole request (head, body); the future resolves with its response or fails by `deadline`."""
        assert self.transport is not None
        waiter: asyncio.Future[Response] = self.loop.create_future()
        self._waiter = waiter
        self._state = _HEAD
        self._seen = False
        self.reusable = False
        self._timer = self.loop.call_at(deadline, self._expire)
        self.transport.writelines(data)
        return waiter

    def close(self) -> None:
        """Close at once (the response, if any, is abandoned); never reused afterwards."""
        self.closed = True
        self.reusable = False
        self._stop_timer()  # a cancelled call's timer must not keep the connection alive until its deadline
        if self.transport is not None:
            self.transport.abort()

    def _expire(self) -> None:
        self._timer = None
        self._fail(ProviderError("timeout", retryable=True))

    def _fail(self, error: BaseException) -> None:
        self._state = _DONE
        self.reusable = False
        self._stop_timer()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        if not self.closed:
            self.close()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _finish(self, body: bytes | None, *, reusable: bool) -> None:
        head = self._head
        waiter = self._waiter
        assert head is not None
        assert waiter is not None
        self._state = _DONE
        self._stop_timer()
        self._parts = bytearray()
        self._chunked = None
        self.reusable = reusable and head.keep_alive and not self.closed
        if waiter.done():
            # The call was cancelled (a gone client, a lost hedge) as its answer arrived in the same
            # loop iteration: nobody wants the answer, and the pool is already dropping this connection.
            self.reusable = False
            self.close()
            return
        try:
            decoded = None if body is None else parse.decode(body, head.headers.get("content-encoding"), cap=self.cap)
        except ProviderError as error:
            waiter.set_exception(error)
            self.close()
            return
        waiter.set_result(Response(status=head.status, headers=head.headers, body=decoded))
        if not self.reusable and not self.closed:
            self.close()

    # parsing, as bytes arrive

    def _feed(self, data: bytes) -> None:
        state = self._state
        if state == _HEAD:
            self._feed_head(data)
        elif state == _LENGTH:
            self._feed_length(data)
        elif state == _CHUNKED:
            assert self._chunked is not None
            if self._chunked.feed(data):
                self._finish(bytes(self._chunked.body), reusable=True)
        elif state == _TO_CLOSE:
            self._take(data)

    def _feed_head(self, data: bytes) -> None:
        buf = self._buffer
        if buf:
            start = max(0, len(buf) - 3)  # search only what is new: a drip must not cost O(n^2)
            buf += data
            if buf.find(b"\r\n\r\n", start) < 0:
                self._check_partial(buf)
                return
            data = bytes(buf)
            buf.clear()
        # A loop, not recursion, over interim responses: one read may hold thousands of them.
        pos = 0
        while True:
            end = data.find(b"\r\n\r\n", pos)
            if end < 0:
                partial = data[pos:]
                self._check_partial(partial)
                buf += partial
                return
            if end - pos > parse.MAX_HEAD:
                raise parse.bad_http("response head too long")
            head = parse.parse_head(data[pos:end])
            pos = end + 4
            if head.status >= 200:
                break
            if head.status == 101:
                raise parse.bad_http("unexpected protocol switch")
            # An interim response (100 Continue, 103 Early Hints): the real one follows.
        self._head = head
        self._begin_body(head, data[pos:])

    def _check_partial(self, data: bytes | bytearray) -> None:
        if len(data) > parse.MAX_HEAD:
            raise parse.bad_http("response head too long")
        if not parse.could_be_http(data[:7]):
            raise parse.bad_http("not an HTTP response")

    def _begin_body(self, head: parse.Head, rest: bytes) -> None:
        if not 200 <= head.status < 300:
            # Error bodies are not read: the status says all the router needs; the connection goes.
            self._finish(None, reusable=False)
            return
        if head.status == 204:
            self._finish(b"", reusable=not rest)
            return
        if parse.is_chunked(head):
            self._state = _CHUNKED
            self._chunked = parse.Chunked(cap=self.cap)
            if rest:
                self._feed(rest)
            return
        length = parse.content_length(head)
        if length is None:
            self._state = _TO_CLOSE
            self._size = 0
            if rest:
                self._take(rest)
            return
        if length > self.cap:  # compressed or not: a compressed body this big inflates past the cap
            raise parse.over_cap(self.cap, declared=length)
        if len(rest) >= length:  # the usual case: the whole answer came with its head
            self._finish(rest[:length], reusable=len(rest) == length)
            return
        self._state = _LENGTH
        self._remaining = length
        if rest:
            self._feed_length(rest)

    def _feed_length(self, data: bytes) -> None:
        remaining = self._remaining
        if len(data) < remaining:
            self._parts += data
            self._remaining = remaining - len(data)
            return
        self._parts += data[:remaining]
        self._finish(bytes(self._parts), reusable=len(data) == remaining)

    def _take(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self.cap:
            raise parse.over_cap(self.cap)
        self._parts += data
