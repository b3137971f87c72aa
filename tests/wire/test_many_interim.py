"""The pooled client: many interim (1xx) responses in one read are skipped without recursion."""

from __future__ import annotations

from tests.fakes.tcp import StartRaw
from tests.wire.conftest import OK, MakePool, replies


async def test_thousands_of_interim_responses_in_one_read(start_raw: StartRaw, make_pool: MakePool) -> None:
    """Three thousand 100 Continue heads arriving together still leave just the answer."""
    interim = b"HTTP/1.1 100 Continue\r\n\r\n" * 3000
    _, url = await start_raw(replies(interim + OK))
    resp = await make_pool(url).post(b"{}", timeout=10)
    assert resp.status == 200
    assert resp.body == b"{}"
