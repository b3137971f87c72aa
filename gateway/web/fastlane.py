"""The fast lane: a lean HTTP/1.1 reader for well-formed rerank POSTs and GETs; aiohttp reads the rest.

aiohttp's server costs about 100 us of CPU per request here (its protocol, request, stream and
response objects), about a quarter of what the gateway spends on a 20-document rerank call, and at
concurrency 1 a request's added latency is that CPU. So every connection starts in the fast lane,
which reads a request head itself and serves the request when the head has a narrow, strict form:

- `POST <a rerank route>` or `GET <a GET route>` (health, readiness, models, metrics, OpenAPI,
  admin), HTTP/1.1 or 1.0, the path plain (no query, no percent-escapes);
- at most 128 header fields, each a token, a colon and a value of printable ASCII, none repeated,
  Host among them for HTTP/1.1, none of them Proxy-Connection or Sec-WebSocket-Key1;
- a Content-Length within `limits.max_body_bytes` (a GET: none, or 0), and none of
  Transfer-Encoding, Content-Encoding, Expect or Upgrade; a Connection field of only `keep-alive`
  or `close`, and nothing sent after a request that closes the connection;

Such a request goes through the same edge (`middlewares.serve`: request id, auth, errors, access
log, metrics) and handler (`handlers.rerank`, or the GET route's) as one aiohttp reads. At the
first request that is anything else, the connection and every byte read on it from that request
on are handed to aiohttp, which serves it from there on exactly as if it had read it from the
start (its own errors for bad HTTP, chunked and compressed bodies, 100-continue, HEAD, 404 and
405). Handovers are counted by reason in `rerank_gateway_fast_lane_handovers_total`. A request
that finds no room under `limits.max_bytes_in_flight` waits in line here, as in aiohttp's lane.
GETs are served here so that a health check or a models list on a kept-alive connection does not
send the rerank calls after it to aiohttp for good.

As aiohttp does here: pipelined requests are answered in order, a client that goes away cancels
its request, a connection idle for `server.keepalive_timeout` seconds (75) is closed, and at
shutdown idle connections close at once and busy ones after their answer (within the drain timeout).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from aiohttp import web
from aiohttp.tcp_helpers import tcp_keepalive, tcp_nodelay
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_server import Server

from gateway.errors import BodyTimeout, GatewayError
from gateway.web.call import AccessInfo, Answer, Call
from gateway.web.handlers import rerank, take_room
from gateway.web.heads import MAX_HEAD, Head, Routes, answer_head, bare_line_break, read_head
from gateway.web.keys import BYTES_IN_FLIGHT, LIVE, METRICS, ROUTE_DIALECTS
from gateway.web.middlewares import render_error, request_id, serve
from gateway.web.routes import GET_ROUTES

log = logging.getLogger("gateway.errors")

#: Bytes of later (pipelined) requests read ahead while one is served, before reading pauses.
READ_AHEAD = 64 * 1024


class FastLane(Server):
    """The protocol factory the listening socket uses: a fast-lane connection, backed by aiohttp's server.

    A `Server` subclass so that aiohttp's runner and sites take it where they take aiohttp's own;
    `inner` is that server, which serves every connection handed to it.
    """

    def __init__(self, inner: Server, app: web.Application, *, keepalive_timeout: float) -> None:
        self.loop = asyncio.get_running_loop()
        super().__init__(inner.request_handler, loop=self.loop)
        self.inner = inner
        self.app = app
        #: Seconds a connection may sit with nothing being served and nothing arriving.
        self.keepalive_timeout = keepalive_timeout
        self.routes = Routes(
            posts={path.encode("ascii"): dialect for path, dialect in app[ROUTE_DIALECTS].items()},
            gets={path.encode("ascii"): handler for path, handler in GET_ROUTES.items()},
        )
        #: The body-size cap: aiohttp's, which is the config's at start (a reload does not change it).
        self.max_body = app[LIVE].current.config.limits.max_body_bytes
        self.fast: set[_Connection] = set()
        self.closing = False

    def __call__(self) -> _Connection:  # type: ignore[override]  # a protocol, as aiohttp's RequestHandler is
        return _Connection(self)

    def handed_over(self, reason: str) -> RequestHandler:
        """A new aiohttp connection handler, for a connection leaving the fast lane for `reason`."""
        self.app[METRICS].fast_lane_handovers.inc((reason,))
        return self.inner()

    def pre_shutdown(self) -> None:
        """Close idle connections; busy ones close after their answer."""
        self.closing = True
        for connection in list(self.fast):
            connection.close_when_done()
        self.inner.pre_shutdown()

    async def shutdown(self, timeout: float | None = None) -> None:
        """Wait up to `timeout` for requests being served, cancel what is left, close every connection."""
        await asyncio.gather(self._finish(timeout), self.inner.shutdown(timeout))

    async def _finish(self, timeout: float | None) -> None:
        tasks = [c.task for c in self.fast if c.task is not None]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        for connection in list(self.fast):
            connection.close()


class _Connection(asyncio.Protocol):
    """One client connection while it is in the fast lane: read heads and bodies, serve requests in order."""

    def __init__(self, lane: FastLane) -> None:
        self.lane = lane
        self.loop = lane.loop
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        #: The head whose body is arriving or being served, where its body starts, and the room held for it
        #: (none until the body is all here).
        self.head: Head | None = None
        self.body_at = 0
        self.held = 0
        self.raw: bytes | memoryview | None = None
        self.task: asyncio.Task[None] | None = None
        self.close_after = False
        self.reading = True
        self.writable = True
        #: When the connection last had no request on it (opened, or an answer sent): the keep-alive wait's start.
        self.last_seen = 0.0
        self.timer: asyncio.TimerHandle | None = None
        #: While a body arrives: when it is late (see `_body_late`), and the seconds it was given.
        self.late: asyncio.TimerHandle | None = None
        self.overdue: float | None = None

    # asyncio's protocol callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio's classes
        tcp_nodelay(self.transport, True)
        tcp_keepalive(self.transport)  # as aiohttp's server: dead peers are found by the kernel too
        self.lane.fast.add(self)
        self.last_seen = self.loop.time()
        self.timer = self.loop.call_at(self.last_seen + self.lane.keepalive_timeout, self._check_idle)

    def data_received(self, data: bytes) -> None:
        # Not `last_seen`: as in aiohttp, bytes of a head that never ends are no request, and a
        # client sending one a byte at a time must not keep its connection for ever.
        self.buffer += data
        if self.task is None and self.writable:
            self._advance()
        elif self.reading and len(self.buffer) > READ_AHEAD and self.transport is not None:
            self.reading = False
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        # As aiohttp: a client that closes its side has gone, and a request being served for it is
        # cancelled (asyncio closes the connection, and `connection_lost` cancels the request).
        return False

    def connection_lost(self, exc: BaseException | None) -> None:
        self._forget()
        if self.task is not None:
            self.task.cancel()  # the task gives back its room
        else:
            self._give_back()

    def pause_writing(self) -> None:
        self.writable = False

    def resume_writing(self) -> None:
        self.writable = True
        self.last_seen = self.loop.time()  # the client has read its answers: the keep-alive wait starts again
        transport = self.transport
        if self.task is None and transport is not None and not transport.is_closing():
            if not self.reading:  # paused while answers waited: the next request's body may not all be here yet
                self.reading = True
                transport.resume_reading()
            self._advance()

    # the edge's lane: how answers are made and written

    def error(self, call: Call, error: GatewayError) -> Answer:
        return render_error(call, error)

    def status(self, answer: Answer) -> int:
        return answer.status

    async def send(self, call: Call, answer: Answer, *, keep_alive: bool) -> None:
        close = self.close_after = self.close_after or not keep_alive or self.lane.closing
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        minor = self.head.minor if self.head is not None else 1
        transport.write(answer_head(answer, call.info.request_id, close=close, minor=minor) + answer.body)

    # reading and serving

    def _advance(self) -> None:
        """Start serving the next request once its head and whole body have arrived; or hand over."""
        buffer = self.buffer
        head = self.head
        if head is None:
            end = buffer.find(b"\r\n\r\n", 0, MAX_HEAD + 4)
            if end < 0:
                if len(buffer) > MAX_HEAD or bare_line_break(buffer):
                    self._hand_over("head")  # a head that will not end in CRLF CRLF: aiohttp's to judge
                return
            head_or_reason = read_head(bytes(buffer[:end]), self.lane.routes)
            if isinstance(head_or_reason, str):
                self._hand_over(head_or_reason)
                return
            head = head_or_reason
            if head.length > self.lane.max_body:
                self._hand_over("size")  # aiohttp refuses it with 413 before reading it
                return
            self.head, self.body_at = head, end + 4
        end = self.body_at + head.length
        if len(buffer) < end:
            if self.late is None:  # the body is still arriving: it has the longest deadline a request may have
                seconds = self.lane.app[LIVE].current.router.longest_deadline(None)
                self.late = self.loop.call_at(self.loop.time() + seconds, self._body_late, seconds)
            return
        self._on_time()
        if head.close and len(buffer) > end:
            # Bytes after a request that closes the connection: aiohttp refuses the request (400).
            self._hand_over("framing")
            return
        if len(buffer) == end:
            # The usual case: the buffer holds this request and nothing more. The body is handed on
            # as a view of it, and the connection reads on into a new buffer: no copy of the body
            # (for 1,000 documents, 300 KB and ~75 page faults fewer per request).
            self.raw, self.buffer = memoryview(buffer)[self.body_at :], bytearray()
        else:
            with memoryview(buffer) as view:
                self.raw = bytes(view[self.body_at : end])
            del buffer[:end]
        self.task = self.loop.create_task(self._serve(head))

    async def _serve(self, head: Head) -> None:
        info = AccessInfo(request_id(head.headers))  # the dialect once past auth: see `_rerank`
        call = Call(self.lane.app, head.method, head.path, head.headers, info, route=head.dialect)
        self.close_after = self.close_after or head.close
        try:
            await serve(call, self._rerank if head.handler is None else head.handler, self)
        except asyncio.CancelledError:
            pass  # the client went away, or the drain ran out: `serve` logged it
        except Exception:  # a failure to write the answer: drop the connection, and log it
            log.exception("fast lane failure", extra={"request_id": info.request_id, "path": head.path})
            self.close_after = True
        finally:
            self._give_back()
            self.head = self.raw = self.overdue = None
            self.task = None
            self._next()

    async def _rerank(self, call: Call) -> Answer:
        """The handler for `serve`: room for the body (waiting in line, as aiohttp's lane does), then `rerank`.

        Room is taken now that the body is all here: a body still arriving holds none, so a client
        that stalls blocks nobody. The body goes to `rerank` with no other reference kept, to be
        freed once decoded.
        """
        head = self.head
        assert head is not None
        assert head.dialect is not None
        call.info.dialect = head.dialect.name  # once past auth, as `rerank_handler`: a 401 counts as dialect "-"
        if self.overdue is not None:
            raise BodyTimeout(self.overdue)
        # Read after `serve` counted the request in: it stays on this config, even across a reload.
        runtime = self.lane.app[LIVE].current
        since = await take_room(head.headers, runtime, self.lane.app[BYTES_IN_FLIGHT], head.length)
        self.held = head.length
        assert self.raw is not None
        raw, self.raw = self.raw, None
        answering = rerank(call, head.dialect, runtime, raw, since)
        del raw
        return await answering

    def _body_late(self, seconds: float) -> None:
        """The body has not all arrived in time: answer 408 and close.

        A body still arriving holds no room, but without this a client that sends a head and stalls
        would keep its connection, and what it sent, for ever (the keep-alive timeout spares a
        connection with a request on it).
        """
        self.late = None
        if self.head is None or self.task is not None or self.transport is None or self.transport.is_closing():
            return
        self.overdue, self.close_after = seconds, True
        self.buffer.clear()
        if self.reading:
            self.reading = False
            self.transport.pause_reading()
        self.task = self.loop.create_task(self._serve(self.head))

    def _on_time(self) -> None:
        if self.late is not None:
            self.late.cancel()
            self.late = None

    def _next(self) -> None:
        """After an answer: close if asked to, else go on to the next request already read, if any."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self.close_after:
            transport.close()  # after what is written has been sent
            return
        self.last_seen = self.loop.time()
        if not self.reading:
            self.reading = True
            transport.resume_reading()
        if self.buffer and self.writable:
            self._advance()

    def _give_back(self) -> None:
        if self.held:
            self.lane.app[BYTES_IN_FLIGHT].give(self.held)
            self.held = 0

    def _hand_over(self, reason: str) -> None:
        """Give the connection and every byte read on it, from the request at hand on, to aiohttp for good."""
        transport = self.transport
        assert transport is not None
        assert self.task is None
        assert not self.held
        self.head = None
        handler = self.lane.handed_over(reason)
        self._forget()
        transport.set_protocol(handler)
        handler.connection_made(transport)
        if not self.reading:
            transport.resume_reading()
        data, self.buffer = bytes(self.buffer), bytearray()
        handler.data_received(data)

    def _check_idle(self) -> None:
        """Close the connection when it has had no request on it for the keep-alive timeout.

        A request is on it while its body arrives, while it is served, and while answers wait for the
        client to read them (writing paused): as in aiohttp, none of these is idle. Part of a head is
        not a request: the wait counts from the connection's start or its last answer, as in aiohttp.
        """
        due = self.last_seen + self.lane.keepalive_timeout
        if self.task is None and self.head is None and self.writable and self.loop.time() >= due:
            self.close()
            return
        self.timer = self.loop.call_at(
            max(due, self.loop.time() + min(1.0, self.lane.keepalive_timeout)), self._check_idle
        )

    def close_when_done(self) -> None:
        """Close now if idle, else after the answer being made."""
        self.close_after = True
        if self.task is None:
            self.close()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def _forget(self) -> None:
        self._on_time()
        self.lane.fast.discard(self)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class Runner(web.AppRunner):
    """aiohttp's AppRunner with the fast lane in front of its server (unless `fast_lane` is False).

    `keepalive_timeout` applies to both: connections in the fast lane and those aiohttp serves.
    """

    def __init__(
        self, app: web.Application, *, fast_lane: bool = True, keepalive_timeout: float = 75.0, **kwargs: Any
    ) -> None:
        super().__init__(app, keepalive_timeout=keepalive_timeout, **kwargs)
        self.fast_lane = fast_lane
        self.keepalive_timeout = keepalive_timeout

    async def _make_server(self) -> Server:
        inner = await super()._make_server()
        if not self.fast_lane:
            return inner
        return FastLane(inner, self.app, keepalive_timeout=self.keepalive_timeout)
