"""Fault: the primary's body is over the size cap, plainly or as a gzip bomb."""

from __future__ import annotations

import gzip

import orjson

from tests.conftest import StartFake, StartGateway
from tests.fakes.upstream import raw
from tests.faults.conftest import BODY, failover, outcomes

CAP = 64 * 1024


def padded_answer(size: int) -> bytes:
    """A valid Cohere answer for BODY padded with an ignored field to about `size` bytes."""
    results = [{"index": i, "relevance_score": 1 - i / 10} for i in range(3)]
    return orjson.dumps({"results": results, "padding": "x" * size})


async def test_oversized_body_fails_over(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A body over max_response_bytes is a provider failure, even though it is a valid answer."""
    _, primary_url = await start_fake("cohere", default=raw(padded_answer(4 * CAP)))
    _, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url, "max_response_bytes": CAP}, backup_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "backup"


async def test_gzip_bomb_is_capped_after_decompression(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A small gzip body that inflates past the cap is stopped at the cap, not inflated whole."""
    bomb = gzip.compress(padded_answer(64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < CAP
    _, primary_url = await start_fake("cohere", default=raw(bomb, headers={"Content-Encoding": "gzip"}))
    client = await start_gateway(failover({"base_url": primary_url, "max_response_bytes": CAP}))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 502
    assert outcomes(await resp.json()) == ["invalid_response"]


async def test_small_gzip_answer_is_read(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A compressed answer under the cap is decompressed and used, so the cap is not a blanket refusal."""
    body = gzip.compress(padded_answer(1000))
    _, primary_url = await start_fake("cohere", default=raw(body, headers={"Content-Encoding": "gzip"}))
    client = await start_gateway(failover({"base_url": primary_url, "max_response_bytes": CAP}))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
