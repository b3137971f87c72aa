"""The benchmark's own pieces answer correctly: the fake Cohere upstream and the bare forwarder."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp.test_utils import TestClient

from bench import corpus, fake_upstream
from bench.forwarder import make_app
from bench.load import parse
from gateway.dialects.cohere import CohereProvider

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def upstream() -> AsyncIterator[str]:
    """The raw asyncio fake upstream on a loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    task = asyncio.create_task(fake_upstream.serve("127.0.0.1", port))
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.01)
            continue
        writer.close()
        break
    yield f"http://127.0.0.1:{port}"
    task.cancel()


async def test_fake_upstream_answers_a_valid_ranking_per_document_count(upstream: str) -> None:
    """Each request gets a Cohere v1 answer that the gateway's own Cohere parser accepts, over keep-alive."""
    async with aiohttp.ClientSession() as session:
        for count in (20, 3, 1000, 20):
            async with session.post(f"{upstream}/v1/rerank", data=corpus.body(count)) as resp:
                assert resp.status == 200
                assert resp.content_type == "application/json"
                data = await resp.json()
            ranking = CohereProvider().parse(data, count=count, expected=count)
            assert sorted(r.index for r in ranking.results) == list(range(count))


async def test_fake_upstream_honours_top_n_and_refuses_bad_bodies(upstream: str) -> None:
    """top_n cuts the answer; a body without documents is a Cohere 400, another path a 404."""
    async with aiohttp.ClientSession() as session:
        body = orjson.dumps({"query": "q", "documents": ["a", "b", "c"], "top_n": 2})
        async with session.post(f"{upstream}/v1/rerank", data=body) as resp:
            assert len((await resp.json())["results"]) == 2
        async with session.post(f"{upstream}/v1/rerank", data=b'{"query": "q"}') as resp:
            assert resp.status == 400
            assert "message" in await resp.json()
        async with session.post(f"{upstream}/v2/rerank", data=corpus.body(2)) as resp:
            assert resp.status == 404


async def test_forwarder_passes_bytes_through_unchanged(upstream: str, aiohttp_client: AiohttpClient) -> None:
    """The forwarder's answer is byte for byte the upstream's answer to the same body."""
    client = await aiohttp_client(make_app(upstream))
    body = corpus.body(20)
    resp = await client.post("/v1/rerank", data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 200
    assert await resp.read() == fake_upstream.answer(20).split(b"\r\n\r\n", 1)[1]


def test_corpus_bodies_have_fifty_word_documents() -> None:
    """A benchmark body holds the asked number of documents of 50 words, the same bytes every time."""
    data = orjson.loads(corpus.body(20))
    assert len(data["documents"]) == 20
    assert all(len(d.split()) == 50 for d in data["documents"])
    assert corpus.body(20) == corpus.body(20)


def test_wrk_result_line_is_read_in_milliseconds() -> None:
    """The Lua done() line becomes req/s and millisecond percentiles, errors summed."""
    m = parse("noise\nBENCH-RESULT 5000 2000000 0 1 0 2 0 450.0 1200.0 3000.0 500.0\n")
    assert m.rps == 2500
    assert (m.p50, m.p99, m.p999) == (0.45, 1.2, 3.0)
    assert m.errors == 3
