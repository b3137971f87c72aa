"""The pooled client: a body with neither length nor chunking runs until the server closes."""

from __future__ import annotations

from tests.fakes.tcp import StartRaw
from tests.wire.conftest import MakePool, replies

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"


async def test_body_delimited_by_close_is_read_whole(start_raw: StartRaw, make_pool: MakePool) -> None:
    """The body is everything up to the close, and the next call needs a new connection."""
    raw, url = await start_raw(replies([ANSWER + b'{"results"', b": []}"], hold=False))
    pool = make_pool(url)
    for _ in range(2):
        resp = await pool.post(b"{}", timeout=10)
        assert resp.body == b'{"results": []}'
    assert raw.connections == 2
