"""The pooled client: a response whose head and body arrive in many small reads."""

from __future__ import annotations

from tests.fakes.tcp import StartRaw
from tests.wire.conftest import MakePool, replies

BODY = b'{"a": [1, 2]}'
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY)


async def test_head_dripped_byte_by_byte_is_parsed(start_raw: StartRaw, make_pool: MakePool) -> None:
    """A head sent one byte at a time, then the body in two pieces, gives the whole response."""
    pieces = [HEAD[i : i + 1] for i in range(len(HEAD))] + [BODY[:5], BODY[5:]]
    _, url = await start_raw(replies(pieces, gap=0.001))
    resp = await make_pool(url).post(b"{}", timeout=10)
    assert resp.status == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.body == BODY


async def test_head_split_inside_the_blank_line_is_parsed(start_raw: StartRaw, make_pool: MakePool) -> None:
    """A read boundary between the two CRLFs that end the head does not hide the end of the head."""
    _, url = await start_raw(replies([HEAD[:-3], HEAD[-3:-1], HEAD[-1:] + BODY]))
    resp = await make_pool(url).post(b"{}", timeout=10)
    assert resp.body == BODY
