"""The pooled client: interim (1xx) responses are skipped, a protocol switch is refused."""

from __future__ import annotations

import pytest

from gateway.errors import ProviderError
from tests.fakes.tcp import StartRaw
from tests.wire.conftest import OK, MakePool, replies


async def test_continue_and_early_hints_are_skipped(start_raw: StartRaw, make_pool: MakePool) -> None:
    """100 Continue and 103 Early Hints before the answer, together or apart, leave just the answer."""
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n"
    raw, url = await start_raw(replies(interim + OK, [interim[:26], interim[26:], OK]))
    pool = make_pool(url)
    for _ in range(2):
        resp = await pool.post(b"{}", timeout=10)
        assert resp.status == 200
        assert resp.body == b"{}"
    assert raw.connections == 1


async def test_switching_protocols_is_bad_http(start_raw: StartRaw, make_pool: MakePool) -> None:
    """A 101 the client never asked for is a bad_http failure."""
    _, url = await start_raw(replies(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"))
    with pytest.raises(ProviderError) as error:
        await make_pool(url).post(b"{}", timeout=10)
    assert error.value.kind == "bad_http"
