"""Strict HTTP/1.1 response parsing: the head, chunked framing and content decoding, with caps.

Pure functions and one small decoder, no I/O: the connection feeds them bytes. Anything that is
not well-formed HTTP/1.x is a `bad_http` failure (retryable: another try may meet a sane server);
a body over the size cap, compressed or not, is an invalid response.
"""

from __future__ import annotations

import re
import zlib

import attrs

from gateway.errors import InvalidResponse, ProviderError

#: Limits on what an upstream may send before the body: far above any real rerank server's head.
MAX_HEAD = 64 * 1024
MAX_HEADERS = 100
#: A chunk-size line (with extensions) longer than this is garbage, not a size.
MAX_CHUNK_LINE = 4096

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,15}")
#: A header line: a token, a colon, the value (leading blanks skipped; trailing ones stripped after).
_FIELD = re.compile(b"(" + _TOKEN.pattern + rb"):[ \t]*(.*)")
_STATUS = re.compile(rb"HTTP/1\.([01]) ([1-9][0-9][0-9])(?: [^\r\n]*)?")


#: Header lines already parsed, to their (name, value): checked header lines, so safe to reuse.
_SEEN: dict[bytes, tuple[str, str]] = {}


def bad_http(detail: str) -> ProviderError:
    """The error for bytes that are not a well-formed HTTP/1.x response."""
    return ProviderError("bad_http", retryable=True, detail=detail)


def over_cap(cap: int, *, declared: int | None = None) -> InvalidResponse:
    """The error for a body (decoded, or as declared by Content-Length) larger than `cap` bytes."""
    what = "body" if declared is None else f"body of {declared} bytes"
    return InvalidResponse(f"{what} is over the {cap}-byte cap")


@attrs.frozen
class Head:
    """A parsed status line and header fields (names lower-cased, repeated fields joined by commas)."""

    status: int
    headers: dict[str, str]
    #: False for HTTP/1.0 without `Connection: keep-alive`, or `Connection: close`.
    keep_alive: bool


def could_be_http(start: bytes | bytearray) -> bool:
    """Whether the first bytes of a response can still begin an HTTP/1.x status line."""
    n = min(len(start), 7)
    return start[:n] == b"HTTP/1."[:n]


def parse_head(head: bytes) -> Head:
    """Parse a response head (without its final blank line); raise `bad_http` when it is not strict HTTP/1.x."""
    lines = head.split(b"\r\n")
    match = _STATUS.fullmatch(lines[0])
    if match is None:
        raise bad_http("malformed status line")
    breaks = len(lines) - 1
    if breaks > MAX_HEADERS:
        raise bad_http("too many header fields")
    if stray_breaks(head, breaks) or b"\0" in head:
        raise bad_http("control character in the head")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        key, text = header_field(line)
        if key in headers:
            if key == "content-length" and headers[key] != text:
                raise bad_http("conflicting Content-Length fields")
            if key != "content-length":
                headers[key] = headers[key] + ", " + text
        else:
            headers[key] = text
    connection = headers.get("connection", "").lower()
    http11 = match.group(1) == b"1"
    # HTTP/1.1 keeps the connection unless told otherwise; HTTP/1.0 closes it unless told otherwise.
    keep_alive = "close" not in connection if http11 else "keep-alive" in connection
    if "transfer-encoding" in headers:
        if not http11:  # RFC 9112 6.1: faulty framing
            raise bad_http("Transfer-Encoding in an HTTP/1.0 response")
        if "content-length" in headers:
            # RFC 9112 6.3: Transfer-Encoding wins, but such a message smells of response
            # splitting: read it as chunked and never send on this connection again.
            keep_alive = False
    return Head(status=int(match.group(2)), headers=headers, keep_alive=keep_alive)


def stray_breaks(head: bytes | bytearray, breaks: int) -> bool:
    """Whether `head` has a CR or LF that is not part of its `breaks` CRLF line breaks.

    Checked once over a head, not per field: every CR and LF must be part of a line break.
    """
    return head.count(b"\n") != breaks or head.count(b"\r") != breaks


def header_field(line: bytes) -> tuple[str, str]:
    """One header line as (lower-case name, value); `bad_http` when it is not a token, a colon and a value."""
    return _SEEN.get(line) or _field(line)


def _field(line: bytes) -> tuple[str, str]:
    """One header line as (lower-case name, value), remembered: an upstream repeats most of its lines."""
    match = _FIELD.fullmatch(line)
    if match is None:
        raise bad_http("malformed header field")
    field = (match.group(1).decode("ascii").lower(), match.group(2).rstrip(b" \t").decode("latin-1"))
    if len(line) <= 200:  # short lines only: a few hundred of them, since Date and request ids change
        if len(_SEEN) >= 256:
            _SEEN.clear()
        _SEEN[line] = field
    return field


def content_length(head: Head) -> int | None:
    """The declared body length, or None when absent; a value that is not a plain number is bad HTTP."""
    value = head.headers.get("content-length")
    if value is None:
        return None
    if not value.isdigit() or not value.isascii() or len(value) > 18:
        raise bad_http("malformed Content-Length")
    return int(value)


def is_chunked(head: Head) -> bool:
    """Whether the body is chunked; any other transfer coding is refused rather than guessed at."""
    coding = head.headers.get("transfer-encoding")
    if coding is None:
        return False
    if coding.strip().lower() != "chunked":
        raise bad_http("unsupported Transfer-Encoding")
    return True


@attrs.define
class Chunked:
    """Decodes a chunked body fed in pieces; `feed` returns True once the last chunk and trailers are in."""

    cap: int
    #: The data of every chunk so far, in one buffer: a body of many tiny chunks must not cost an object each.
    body: bytearray = attrs.field(factory=bytearray)
    size: int = 0
    _buffer: bytearray = attrs.field(factory=bytearray)
    #: Bytes of chunk data still expected (plus its CRLF), or -1 between chunks, or -2 in the trailers.
    _need: int = -1
    _trailer_bytes: int = 0

    def feed(self, data: bytes) -> bool:
        """Take the next bytes off the wire; raise `bad_http` on broken framing or the cap error on size."""
        buf = self._buffer
        buf += data
        while True:
            if self._need >= 0:
                if len(buf) < self._need + 2:
                    return False
                if buf[self._need : self._need + 2] != b"\r\n":
                    raise bad_http("chunk data not followed by CRLF")
                self.body += buf[: self._need]
                del buf[: self._need + 2]
                self._need = -1
                continue
            end = buf.find(b"\r\n")
            if end < 0:
                if len(buf) > MAX_CHUNK_LINE:
                    raise bad_http("chunk line too long")
                return False
            line = bytes(buf[:end])
            del buf[: end + 2]
            if self._need == -2:
                if not line:
                    if buf:
                        raise bad_http("bytes after the end of a chunked body")
                    return True
                self._trailer(line)
                continue
            self._size_line(line)

    def _size_line(self, line: bytes) -> None:
        size_text, _, _extensions = line.partition(b";")
        size_text = size_text.rstrip(b" \t")
        if _HEX.fullmatch(size_text) is None:
            raise bad_http("malformed chunk size")
        size = int(size_text, 16)
        if size == 0:
            self._need = -2
            return
        self.size += size
        if self.size > self.cap:
            raise over_cap(self.cap)
        self._need = size

    def _trailer(self, line: bytes) -> None:
        self._trailer_bytes += len(line) + 2
        if self._trailer_bytes > MAX_HEAD:
            raise bad_http("trailers too long")
        name, sep, _ = line.partition(b":")
        if not sep or _TOKEN.fullmatch(name) is None:
            raise bad_http("malformed trailer field")


def decode(body: bytes, encoding: str | None, *, cap: int) -> bytes:
    """The body with its Content-Encoding (gzip or deflate) undone, stopping as soon as it passes `cap`."""
    if encoding is None:
        return body
    coding = encoding.strip().lower()
    if coding in ("", "identity"):
        return body
    if coding in ("gzip", "x-gzip"):
        return _inflate(body, zlib.MAX_WBITS | 16, cap=cap)
    if coding == "deflate":
        # RFC 9110 means zlib-wrapped deflate; some servers send it raw. Tell them apart by the header.
        wrapped = len(body) >= 2 and (body[0] & 0x0F) == 8 and (body[0] << 8 | body[1]) % 31 == 0
        return _inflate(body, zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS, cap=cap)
    raise InvalidResponse(f"content encoding {coding!r} is not supported")


def _inflate(body: bytes, wbits: int, *, cap: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    try:
        # max_length stops a bomb at cap + 1 bytes instead of inflating all of it.
        out = inflater.decompress(body, cap + 1)
    except zlib.error:
        raise InvalidResponse("compressed body is corrupt") from None
    if len(out) > cap:
        raise over_cap(cap)
    if not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
        raise InvalidResponse("compressed body is truncated or has trailing bytes")
    return out
