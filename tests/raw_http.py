"""Raw HTTP/1.1 on loopback for the fast-lane tests: exact request bytes out, whole answers back.

The fast lane (gateway/web/fastlane.py) decides by the exact bytes of a request head, so these
tests write heads byte for byte instead of going through an HTTP client, and read answers the same
way. `Reply.comparable` is what must be equal when the fast lane and aiohttp's server answer the
same bytes; `scrape` reads /metrics on a connection of its own (a plain GET: the fast lane serves
it, with no handover).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import attrs
import orjson
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.tcp import cohere_answer, read_request, response

#: No read in these tests waits longer than this for one thing to happen.
PATIENCE = 10.0
HANDOVERS = "rerank_gateway_fast_lane_handovers_total"
ROOM = "rerank_gateway_request_bytes_in_flight"
#: The ids the gateway makes (request ids, answer ids): 128 random bits in hex.
_GENERATED = re.compile(r"[0-9a-f]{32}")

Fields = Iterable[tuple[str, str]]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@attrs.frozen
class Reply:
    """One HTTP answer as it came off the wire: version, status, reason, header fields in order, body."""

    version: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header field `name` (any case), or None."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        """The body, decoded as JSON."""
        return orjson.loads(self.body)

    def comparable(self) -> tuple[str, int, str, list[tuple[str, str]], Any]:
        """Everything but Date, with generated ids (request id, answer id) masked: equal for equal answers."""
        headers = sorted((k, "<id>" if _GENERATED.fullmatch(v) else v) for k, v in self.headers if k != "Date")
        try:
            body: Any = self.json()
        except orjson.JSONDecodeError:
            body = self.body
        return self.version, self.status, self.reason, headers, _masked(body)


def _masked(body: Any) -> Any:
    """`body` with what differs between equal answers masked: generated answer ids and attempt durations."""
    if isinstance(body, list):
        return [_masked(item) for item in body]
    if not isinstance(body, dict):
        return body
    masked = {key: _masked(value) for key, value in body.items()}
    if isinstance(body.get("id"), str) and _GENERATED.fullmatch(body["id"]):
        masked["id"] = "<id>"
    if "duration_ms" in body:
        masked["duration_ms"] = "<ms>"
    return masked


def request(method: str, target: str, *, headers: Fields = (), body: bytes = b"", length: bool = True) -> bytes:
    """A request's exact bytes: request line, Host, `headers`, Content-Length (unless `length` is False), body."""
    lines = [f"{method} {target} HTTP/1.1", "Host: gateway", *(f"{k}: {v}" for k, v in headers)]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def post(path: str, payload: Any, *, headers: Fields = ()) -> bytes:
    """A fast-lane-shaped JSON POST of `payload` (bytes are sent as they are)."""
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return request("POST", path, headers=[("Content-Type", "application/json"), *headers], body=body)


#: Documents per request of `echoing_requests`, and the document (198 kB: under limits.max_document_chars).
ECHO_COUNTS = [4, 3, 5, 3, 4, 3, 5, 4, 3, 5, 3, 4]
ECHO_DOC = "apple " * 33_000


def echoing_requests() -> bytes:
    """Twelve pipelined requests for model "m" whose answers echo 198 kB documents: 9 MB of answers in all.

    More than the kernel buffers on loopback hold, so a client that does not read stalls the gateway's
    writes. Request i has query "q<i>", ECHO_COUNTS[i] documents and x-request-id "r<i>".
    """
    return b"".join(
        post(
            "/v1/rerank",
            {"model": "m", "query": f"q{i}", "documents": [ECHO_DOC] * n, "return_documents": True},
            headers=[("x-request-id", f"r{i}")],
        )
        for i, n in enumerate(ECHO_COUNTS)
    )


def chunked_post(path: str, payload: Any, *, headers: Fields = (), size: int = 50) -> bytes:
    """A JSON POST with a chunked body in pieces of `size` bytes (no Content-Length)."""
    body = orjson.dumps(payload)
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
    fields = [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"), *headers]
    return request("POST", path, headers=fields, length=False) + chunks + b"0\r\n\r\n"


async def read_reply(reader: asyncio.StreamReader) -> Reply:
    """Read one whole answer: its head, then a Content-Length, chunked or read-to-the-end body."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), PATIENCE)
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    version, code, reason = [*status_line.split(" ", 2), ""][:3]
    headers = tuple((k, v.strip()) for k, _, v in (line.partition(":") for line in lines))
    reply = Reply(version, int(code), reason, headers, b"")
    if reply.status < 200:
        return reply  # an interim answer (100 Continue): no body
    length = reply.header("Content-Length")
    if length is not None:
        body = await asyncio.wait_for(reader.readexactly(int(length)), PATIENCE)
    elif reply.header("Transfer-Encoding") == "chunked":
        body = await asyncio.wait_for(_chunks(reader), PATIENCE)
    else:
        body = await asyncio.wait_for(reader.read(), PATIENCE)
    return attrs.evolve(reply, body=body)


async def _chunks(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while size := int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16):
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
    await reader.readuntil(b"\r\n")
    return b"".join(parts)


@attrs.define
class Conn:
    """One client connection, written to and read from by the test byte for byte."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    @classmethod
    async def open(cls, port: int) -> Conn:
        """Connect to the gateway on 127.0.0.1:`port`, each write sent at once (no Nagle delay)."""
        return await cls.over(await connected(port))

    @classmethod
    async def over(cls, sock: socket.socket) -> Conn:
        """A connection over `sock`, connected already (from here on, what arrives is read as it comes)."""
        return cls(*await asyncio.open_connection(sock=sock))

    async def __aenter__(self) -> Conn:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def send(self, data: bytes) -> None:
        """Write `data` and wait until it is handed to the kernel."""
        self.writer.write(data)
        await self.writer.drain()

    async def reply(self) -> Reply:
        """The next answer on this connection."""
        return await read_reply(self.reader)

    async def at_eof(self) -> bool:
        """Whether the server closes the connection (the next read is the end) with nothing more sent."""
        rest = await asyncio.wait_for(self.reader.read(), PATIENCE)
        assert rest == b"", rest
        return True

    async def close(self) -> None:
        """Close this side and wait until the socket is closed."""
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


async def connected(port: int, *, receive_buffer: int | None = None) -> socket.socket:
    """A non-blocking socket connected to 127.0.0.1:`port` with TCP_NODELAY, that nothing reads from yet.

    `receive_buffer` shrinks the kernel's receive buffer, so that unread answers soon stop the server's writes.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    except BaseException:
        sock.close()
        raise
    return sock


async def exchange(port: int, data: bytes, *, answers: int = 1) -> list[Reply]:
    """Send `data` on a new connection and read `answers` answers from it."""
    conn = await Conn.open(port)
    try:
        await conn.send(data)
        return [await conn.reply() for _ in range(answers)]
    finally:
        await conn.close()


async def scrape(port: int) -> Samples:
    """Every sample of /metrics, read on a connection of its own."""
    [reply] = await exchange(port, request("GET", "/metrics", headers=[("Connection", "close")], length=False))
    assert reply.status == 200, reply
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(reply.body.decode())
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist yet."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def handovers(samples: Samples) -> dict[str, float]:
    """Handovers to aiohttp counted so far, by reason (reasons never counted are left out)."""
    return {dict(labels)["reason"]: v for (name, labels), v in samples.items() if name == HANDOVERS and v}


def port_of(client: TestClient[Any, Any]) -> int:
    """The port the test client's gateway listens on."""
    port = client.server.port
    assert port is not None
    return port


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Return once `check()` holds; fail after PATIENCE seconds rather than hang."""
    for _ in range(int(PATIENCE / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


@attrs.define
class GatedUpstream:
    """A Cohere upstream on raw TCP (for `start_raw`) that answers only once the test opens `gate`."""

    gate: asyncio.Event = attrs.field(factory=asyncio.Event)
    #: The request bodies received, in order.
    bodies: list[bytes] = attrs.field(factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one upstream connection: each request waits for the gate, then gets a correct answer."""
        while True:
            _, body = await read_request(reader)
            self.bodies.append(body)
            await self.gate.wait()
            writer.write(response(cohere_answer(body)))
            await writer.drain()
