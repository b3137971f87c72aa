"""The pooled client: heads that are not strict HTTP/1.x are bad_http failures."""

from __future__ import annotations

import pytest

from gateway.errors import ProviderError
from gateway.providers.wire.parse import MAX_HEAD, MAX_HEADERS
from tests.fakes.tcp import StartRaw
from tests.wire.conftest import MakePool, replies

BAD = {
    "status without code": b"HTTP/1.1 OK\r\n\r\n",
    "two-digit status": b"HTTP/1.1 20 OK\r\n\r\n",
    "HTTP/2 status line": b"HTTP/2 200\r\n\r\n",
    "not http": b"<html>hello</html>\r\n\r\n",
    "space before colon": b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\n{}",
    "folded header": b"HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\nContent-Length: 2\r\n\r\n{}",
    "bare LF in a value": b"HTTP/1.1 200 OK\r\nX-A: 1\n2\r\nContent-Length: 2\r\n\r\n{}",
    "two lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "signed length": b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n{}",
    "gzip transfer coding": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n{}",
    "chunked in HTTP/1.0": b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    "head too long": b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * MAX_HEAD + b"\r\n\r\n",
    "head too long, never ended": b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * (MAX_HEAD + 10),
    "too many fields": b"HTTP/1.1 200 OK\r\n" + b"X-A: 1\r\n" * (MAX_HEADERS + 1) + b"\r\n",
}


@pytest.mark.parametrize("name", sorted(BAD))
async def test_malformed_head_is_bad_http(name: str, start_raw: StartRaw, make_pool: MakePool) -> None:
    """Each malformed head fails the call as bad_http, whatever the rest of the response."""
    _, url = await start_raw(replies(BAD[name]))
    with pytest.raises(ProviderError) as error:
        await make_pool(url).post(b"{}", timeout=10)
    assert error.value.kind == "bad_http"
    assert error.value.retryable
