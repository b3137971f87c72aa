"""The pooled client: gzip and deflate bodies are decoded, and capped after decoding."""

from __future__ import annotations

import gzip
import zlib

import pytest

from gateway.errors import ProviderError
from tests.fakes.tcp import StartRaw, response
from tests.wire.conftest import MakePool, replies

BODY = b'{"results": [' + b'{"index": 0, "relevance_score": 0.5}, ' * 50 + b"{}]}"


def raw_deflate(data: bytes) -> bytes:
    """Deflate without the zlib wrapper, as some servers send it."""
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("coding", "packed"),
    [("gzip", gzip.compress(BODY)), ("deflate", zlib.compress(BODY)), ("deflate", raw_deflate(BODY))],
    ids=["gzip", "deflate", "raw deflate"],
)
async def test_compressed_body_is_decoded(coding: str, packed: bytes, start_raw: StartRaw, make_pool: MakePool) -> None:
    """A compressed answer arrives decoded, on a connection that is then reused."""
    raw, url = await start_raw(replies(*[response(packed, headers={"Content-Encoding": coding})] * 2))
    pool = make_pool(url)
    for _ in range(2):
        assert (await pool.post(b"{}", timeout=10)).body == BODY
    assert raw.connections == 1


async def test_bomb_is_stopped_at_the_cap(start_raw: StartRaw, make_pool: MakePool) -> None:
    """A small gzip body that inflates past the cap is an invalid response."""
    bomb = gzip.compress(b" " * 10_000_000, compresslevel=9)
    _, url = await start_raw(replies(response(bomb, headers={"Content-Encoding": "gzip"})))
    with pytest.raises(ProviderError) as error:
        await make_pool(url, cap=100_000).post(b"{}", timeout=10)
    assert error.value.kind == "invalid_response"


@pytest.mark.parametrize(
    ("coding", "packed"),
    [
        ("gzip", gzip.compress(BODY)[:-12]),
        ("gzip", b"not gzip at all"),
        ("br", b"\x1b\x00"),
        ("gzip", gzip.compress(BODY) + b"junk"),
    ],
    ids=["truncated", "corrupt", "unsupported coding", "trailing bytes"],
)
async def test_undecodable_body_is_invalid(
    coding: str, packed: bytes, start_raw: StartRaw, make_pool: MakePool
) -> None:
    """A compressed body that is cut, corrupt or in an unknown coding is an invalid response."""
    _, url = await start_raw(replies(response(packed, headers={"Content-Encoding": coding})))
    with pytest.raises(ProviderError) as error:
        await make_pool(url).post(b"{}", timeout=10)
    assert error.value.kind == "invalid_response"
