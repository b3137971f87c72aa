"""The pooled client: chunked response bodies, with extensions and trailers, and broken chunking."""

from __future__ import annotations

import pytest

from gateway.errors import ProviderError
from tests.fakes.tcp import StartRaw
from tests.wire.conftest import OK, MakePool, replies

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"


async def test_chunks_with_extensions_and_trailers_are_joined(start_raw: StartRaw, make_pool: MakePool) -> None:
    """Chunk extensions are ignored, trailers are read, and the connection is then reused."""
    chunked = HEAD + b"5;name=value\r\n[1, 2\r\n3 ; x\r\n, 3\r\nA\r\n, 4, 5, 6]\r\n0\r\nX-Checksum: abc\r\n\r\n"
    raw, url = await start_raw(replies([chunked[:30], chunked[30:77], chunked[77:]], OK))
    pool = make_pool(url)
    resp = await pool.post(b"{}", timeout=10)
    assert resp.body == b"[1, 2, 3, 4, 5, 6]"
    assert (await pool.post(b"{}", timeout=10)).body == b"{}"
    assert raw.connections == 1


@pytest.mark.parametrize(
    "body",
    [b"zz\r\nab\r\n0\r\n\r\n", b"2\r\nabcd\r\n0\r\n\r\n", b"-1\r\nab\r\n0\r\n\r\n"],
    ids=["size not hex", "chunk longer than its size", "negative size"],
)
async def test_broken_chunking_is_bad_http(body: bytes, start_raw: StartRaw, make_pool: MakePool) -> None:
    """A chunk size that is not hex, or data that overruns its size, is a bad_http failure."""
    _, url = await start_raw(replies(HEAD + body))
    with pytest.raises(ProviderError) as error:
        await make_pool(url).post(b"{}", timeout=10)
    assert error.value.kind == "bad_http"


async def test_chunks_past_the_cap_are_refused(start_raw: StartRaw, make_pool: MakePool) -> None:
    """Chunks adding up to more than the cap fail as an invalid response without reading on."""
    _, url = await start_raw(replies(HEAD + b"400\r\n" + b"x" * 0x400 + b"\r\n400\r\n"))
    with pytest.raises(ProviderError) as error:
        await make_pool(url, cap=1500).post(b"{}", timeout=10)
    assert error.value.kind == "invalid_response"
