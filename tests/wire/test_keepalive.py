"""The pooled client: connections are kept alive and reused, unless the server says or shows otherwise."""

from __future__ import annotations

import pytest

from tests.fakes.tcp import StartRaw, response
from tests.wire.conftest import OK, MakePool, forever


async def test_calls_in_a_row_share_one_connection(start_raw: StartRaw, make_pool: MakePool) -> None:
    """Five calls one after another are served over a single accepted connection."""
    raw, url = await start_raw(forever(OK))
    pool = make_pool(url)
    for _ in range(5):
        assert (await pool.post(b"{}", timeout=10)).body == b"{}"
    assert raw.connections == 1


@pytest.mark.parametrize(
    "answer",
    [
        response(b"{}", headers={"Connection": "close"}),
        response(b"{}", status="200 OK").replace(b"HTTP/1.1", b"HTTP/1.0"),
        response(b"{}") + b"surplus",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    ],
    ids=["Connection: close", "HTTP/1.0", "bytes past Content-Length", "both Content-Length and chunked"],
)
async def test_connection_not_reused_when_it_cannot_be(answer: bytes, start_raw: StartRaw, make_pool: MakePool) -> None:
    """After Connection: close, HTTP/1.0, bytes past the body or a doubly framed body, a call opens a new connection."""
    raw, url = await start_raw(forever(answer))
    pool = make_pool(url)
    for _ in range(3):
        assert (await pool.post(b"{}", timeout=10)).status == 200
    assert raw.connections == 3


async def test_error_status_closes_the_connection(start_raw: StartRaw, make_pool: MakePool) -> None:
    """A non-2xx answer comes back without its body read, so its connection is not reused."""
    raw, url = await start_raw(forever(response(b'{"message": "busy"}', status="503 Service Unavailable")))
    pool = make_pool(url)
    for _ in range(2):
        resp = await pool.post(b"{}", timeout=10)
        assert resp.status == 503
        assert resp.body is None
    assert raw.connections == 2
