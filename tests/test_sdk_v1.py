"""Real clients against a real gateway port: the official Cohere SDK and a Jina-style client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import cohere
import httpx
import yaml
from aiohttp.test_utils import TestServer

from gateway import config as config_mod
from gateway.app import create_app
from tests.conftest import StartFake, model
from tests.fakes.upstream import det_score, status

DOCS = ["Bern is the federal city of Switzerland.", "Zurich is the largest Swiss city.", "Geneva hosts the UN."]


async def serve(aiohttp_server: Callable[..., Awaitable[TestServer]], config: dict[str, Any]) -> str:
    app = create_app(config_mod.parse(yaml.safe_dump(config), env={}))
    server = await aiohttp_server(app)
    return f"http://127.0.0.1:{server.port}"


async def test_cohere_sdk_client_parses_the_answer(
    aiohttp_server: Callable[..., Awaitable[TestServer]], start_fake: StartFake
) -> None:
    """cohere.Client(base_url=gateway).rerank gets typed results, documents and meta, through a failover."""
    upstream, url = await start_fake("siliconflow")
    upstream.then(status(500), status(500), status(500))
    config = {
        "providers": {
            "sf": {"type": "siliconflow", "base_url": url + "/v1", "api_key": "k"},
            "local": {"type": "local"},
        },
        "models": {"rerank-v3.5": model(("sf", "BAAI/bge-reranker-v2-m3"), ("local", "bm25"))},
    }
    base = await serve(aiohttp_server, config)

    def call() -> Any:
        with httpx.Client() as http:
            client = cohere.Client(api_key="anything", base_url=base, httpx_client=http)
            return client.rerank(
                model="rerank-v3.5", query="federal city of Switzerland", documents=DOCS, top_n=2, return_documents=True
            )

    first = await asyncio.to_thread(call)  # the local ranker answers after the upstream fails
    assert len(first.results) == 2
    assert first.results[0].index == 0
    assert first.results[0].document.text == DOCS[0]
    second = await asyncio.to_thread(call)  # now the upstream answers
    assert [r.index for r in second.results] == [r["index"] for r in upstream_results(upstream)[:2]]
    assert second.meta is not None
    assert second.meta.billed_units is not None


def upstream_results(upstream: Any) -> list[dict[str, Any]]:
    """The ranking the fake produced for its last request, recomputed from the shared scorer."""
    body = upstream.received[-1]
    scored = [{"index": i, "score": det_score(body["query"], d)} for i, d in enumerate(body["documents"])]
    return sorted(scored, key=lambda r: (-r["score"], r["index"]))


async def test_cohere_sdk_error_is_typed(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> None:
    """A 400 from the gateway surfaces as the SDK's BadRequestError carrying our message."""
    base = await serve(aiohttp_server, {"providers": {"l": {"type": "local"}}, "models": {"m": model(("l", "bm25"))}})

    def call() -> Exception:
        try:
            with httpx.Client() as http:
                client = cohere.Client(api_key="x", base_url=base, httpx_client=http)
                client.rerank(model="m", query="q", documents=["a"], top_n=0)
        except Exception as exc:  # noqa: BLE001 - the test inspects whatever the SDK raised
            return exc
        raise AssertionError("no error raised")

    exc = await asyncio.to_thread(call)
    assert type(exc).__name__ == "BadRequestError"
    assert "$.top_n" in str(exc)


async def test_jina_style_client(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> None:
    """A Jina-style client (as LangChain/LlamaIndex write it) reads results, and `detail` on errors."""
    base = await serve(aiohttp_server, {"providers": {"l": {"type": "local"}}, "models": {"m": model(("l", "bm25"))}})
    async with aiohttp.ClientSession() as session:
        body = {"model": "m", "query": "Geneva", "documents": DOCS, "top_n": 1}
        async with session.post(f"{base}/v1/rerank", json=body, headers={"Accept-Encoding": "identity"}) as resp:
            data = await resp.json()
        assert [(r["index"], type(r["relevance_score"])) for r in data["results"]] == [(2, float)]
        async with session.post(f"{base}/v1/rerank", json={"model": "m", "documents": DOCS}) as resp:
            error = await resp.json()
        assert "results" not in error
        assert "$.query" in error["detail"]
