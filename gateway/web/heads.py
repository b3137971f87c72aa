"""HTTP/1.x request heads the fast lane serves, read strictly, and its answers' heads, written as aiohttp writes them.

Pure functions, no I/O: `read_head` takes a head and says what it asks for, or why the fast lane
leaves it to aiohttp (a handover reason); `answer_head` writes an answer's status line and fields.
See gateway/web/fastlane.py for what the fast lane is and why.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from http import HTTPStatus

import attrs
from aiohttp.http import SERVER_SOFTWARE

from gateway.dialects import ClientDialect
from gateway.errors import ProviderError
from gateway.providers.wire.parse import header_field, stray_breaks
from gateway.web.call import Answer, Call

#: A head longer than this goes to aiohttp, which applies its own limits (8190 bytes a line).
MAX_HEAD = 8190
#: More header fields than this go to aiohttp, which answers 400 (its `max_headers`).
MAX_HEADERS = 128

_REQUEST_LINE = re.compile(rb"(POST|GET) (/[!$&'()*+,\-./0-9:;=@A-Z_a-z~]*) HTTP/1\.([01])")
#: Anything in a head but printable ASCII, tab and the CRLFs that end lines.
_ODD_BYTES = re.compile(rb"[^\t\r\n\x20-\x7e]")
#: Fields that change how the body is framed or read: aiohttp's job.
_FRAMING = frozenset({"transfer-encoding", "content-encoding", "expect", "upgrade"})
_CONNECTION = frozenset({"keep-alive", "close"})
#: Fields aiohttp reads its own way: llhttp takes Proxy-Connection for Connection; Sec-WebSocket-Key1 is its 400.
_READ_OTHERWISE = frozenset({"proxy-connection", "sec-websocket-key1"})
_REASONS = {status.value: status.phrase for status in HTTPStatus}


#: A GET route's handler.
GetHandler = Callable[[Call], Awaitable[Answer]]
#: What a path serves: a rerank POST's client dialect, or a GET's handler (the other is None).
Route = tuple[ClientDialect | None, GetHandler | None]


@attrs.frozen
class Routes:
    """The routes the fast lane serves, by raw path: the rerank POSTs (by client dialect) and the GETs."""

    posts: dict[bytes, ClientDialect]
    gets: dict[bytes, GetHandler]


class Head:
    """A request head the fast lane serves: a rerank POST (with its route's dialect) or a GET (with its handler)."""

    __slots__ = ("close", "dialect", "handler", "headers", "length", "method", "minor", "path")

    def __init__(
        self, method: str, path: str, headers: dict[str, str], route: Route, *, length: int, minor: int, close: bool
    ) -> None:
        self.method, self.path, self.headers = method, path, headers
        self.dialect, self.handler = route
        #: The body's length, HTTP/1.<minor>, and whether the client asked to close after the answer.
        self.length, self.minor, self.close = length, minor, close


def read_head(head: bytes, routes: Routes) -> Head | str:
    """The head (without its blank line) if the fast lane serves it, else why not (a handover reason)."""
    lines = head.split(b"\r\n")
    match = _REQUEST_LINE.fullmatch(lines[0])
    if match is None:
        return "request_line" if lines[0].startswith((b"POST ", b"GET ")) else "method"
    method, path = match.group(1), match.group(2)
    dialect = routes.posts.get(path) if method == b"POST" else None
    handler = routes.gets.get(path) if method == b"GET" else None
    if dialect is None and handler is None:
        return "path"
    headers = _fields(head, lines)
    if isinstance(headers, str):
        return headers
    return _framed(method.decode("ascii"), path.decode("ascii"), headers, (dialect, handler), minor=int(match.group(3)))


def _fields(head: bytes, lines: list[bytes]) -> dict[str, str] | str:
    """The header fields by lower-case name, or "header" when any is odd or repeated."""
    breaks = len(lines) - 1
    if breaks > MAX_HEADERS:
        return "header"
    if _ODD_BYTES.search(head) is not None or stray_breaks(head, breaks):
        return "header"
    headers: dict[str, str] = {}
    for line in lines[1:]:
        try:
            name, value = header_field(line)
        except ProviderError:
            return "header"
        if name in headers:
            return "header"
        headers[name] = value
    return "header" if not _READ_OTHERWISE.isdisjoint(headers) else headers


def _framed(method: str, path: str, headers: dict[str, str], route: Route, *, minor: int) -> Head | str:
    """The head, when its body is framed by a plain Content-Length (a GET's: none, or 0) and its fields are plain.

    HTTP/1.1 keeps the connection unless the client says `close`; HTTP/1.0 closes it unless the
    client says `keep-alive`.
    """
    length = headers.get("content-length", "0" if method == "GET" else None)
    if not _FRAMING.isdisjoint(headers) or length is None or not length.isdigit() or len(length) > 18:
        return "framing"
    if method == "GET" and length != "0":
        return "framing"
    if minor == 1 and "host" not in headers:
        return "header"  # HTTP/1.1 requires Host (RFC 9112, section 3.2): aiohttp answers 400
    tokens: set[str] = set()
    connection = headers.get("connection")
    if connection is not None:
        tokens = {token.strip().lower() for token in connection.split(",")}
        if not tokens <= _CONNECTION:
            return "connection"
    close = "close" in tokens if minor == 1 else "keep-alive" not in tokens
    return Head(method, path, headers, route, length=int(length), minor=minor, close=close)


def bare_line_break(start: bytearray) -> bool:
    """Whether the start of a head has a CR or LF that is not part of a CRLF (a trailing CR may be)."""
    return stray_breaks(start.removesuffix(b"\r"), start.count(b"\r\n"))


class _Date:
    """The Date field's value, made once a second."""

    second = 0
    text = ""


def answer_head(answer: Answer, request_id: str, *, close: bool, minor: int) -> bytes:
    """The status line and header fields of `answer`, as aiohttp would write them, and the blank line.

    As aiohttp: the answer's HTTP version is the request's; `Connection: close` tells an HTTP/1.1
    client the connection ends, `Connection: keep-alive` tells an HTTP/1.0 client it does not.
    """
    now = int(time.time())
    if now != _Date.second:
        _Date.second, _Date.text = now, formatdate(now, usegmt=True)
    lines = [f"HTTP/1.{minor} {answer.status} {_REASONS.get(answer.status, '')}"]
    lines += [f"{name}: {value}" for name, value in answer.headers.items()]
    lines += [
        f"x-request-id: {request_id}",
        f"Content-Length: {len(answer.body)}",
        f"Date: {_Date.text}",
        f"Server: {SERVER_SOFTWARE}",
    ]
    if close and minor == 1:
        lines.append("Connection: close")
    elif not close and minor == 0:
        lines.append("Connection: keep-alive")
    text = "\r\n".join(lines)
    if text.count("\n") != len(lines) - 1 or text.count("\r") != len(lines) - 1:
        raise ValueError("a line break in a header field value")  # never written: the connection is dropped
    return (text + "\r\n\r\n").encode()  # UTF-8, as aiohttp writes header fields
