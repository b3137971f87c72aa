"""The pooled client: the server hangs up before the response is complete."""

from __future__ import annotations

import pytest

from gateway.errors import ProviderError
from tests.fakes.tcp import StartRaw
from tests.wire.conftest import MakePool, replies


@pytest.mark.parametrize(
    "answer",
    [
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"results":',
        b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{"res',
        b"HTTP/1.1 200 OK\r\nContent-Type: appl",
        b"",
    ],
    ids=["short Content-Length body", "chunked body cut", "head cut", "no answer"],
)
async def test_connection_closed_early_is_disconnected(answer: bytes, start_raw: StartRaw, make_pool: MakePool) -> None:
    """A close before the response is complete is a retryable disconnected failure, never a short body."""
    _, url = await start_raw(replies(answer, hold=False))
    with pytest.raises(ProviderError) as error:
        await make_pool(url).post(b"{}", timeout=10)
    assert error.value.kind == "disconnected"
    assert error.value.retryable
