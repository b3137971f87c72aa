"""Per-key quotas and model allow-lists: 429 with Retry-After, 403, shared by every replica via Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import StartGateway, model
from tests.procs import Gateway, RedisServer

DOCS = ["apple", "banana", "cherry"]


def config(keys: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The local ranker behind two models, with these gateway keys."""
    return {
        "providers": {"local": {"type": "local"}},
        "models": {"m": model(("local", "bm25")), "other": model(("local", "bm25"))},
        "auth": {"api_keys": keys},
        **extra,
    }


def call(key: str, model_name: str = "m", docs: list[str] = DOCS) -> dict[str, Any]:
    """Request keyword arguments for one rerank call with a gateway key."""
    body = {"model": model_name, "query": "fruit", "documents": docs}
    return {"json": body, "headers": {"Authorization": f"Bearer {key}"}}


async def test_requests_per_minute_answer_429_with_retry_after(start_gateway: StartGateway) -> None:
    """Past its rpm a key gets 429, Retry-After within the minute, and the error in its dialect."""
    client = await start_gateway(config([{"name": "a", "key": "ka", "rpm": 2}, {"name": "b", "key": "kb"}]))
    for _ in range(2):
        assert (await client.post("/v1/rerank", **call("ka"))).status == 200
    resp = await client.post("/v1/rerank", **call("ka"))
    assert resp.status == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    body = await resp.json()
    assert body["type"] == "rate_limited"
    assert "'a'" in body["message"]
    assert "ka" not in body["message"]
    jina = await client.post("/jina/v1/rerank", **call("ka"))
    assert jina.status == 429
    assert "rate_limited" in str(await jina.json())
    assert (await client.post("/v1/rerank", **call("kb"))).status == 200  # another key is not affected


async def test_documents_per_minute_count_documents(start_gateway: StartGateway) -> None:
    """dpm counts documents: a request that would pass it is refused; one bigger than it is a 413."""
    client = await start_gateway(config([{"name": "a", "key": "ka", "dpm": 5, "rpm": 10}]))
    assert (await client.post("/v1/rerank", **call("ka"))).status == 200  # 3 of 5
    resp = await client.post("/v1/rerank", **call("ka"))  # 6 > 5
    assert resp.status == 429
    assert "Retry-After" in resp.headers
    assert (await client.post("/v1/rerank", **call("ka", docs=["one", "two"]))).status == 200  # 5 of 5
    huge = await client.post("/v1/rerank", **call("ka", docs=[f"d{i}" for i in range(6)]))
    assert huge.status == 413
    assert (await huge.json())["field"] == "$.documents"


async def test_models_outside_the_allow_list_are_forbidden(start_gateway: StartGateway) -> None:
    """A key with `models` may use only those; others get 403 naming the model, and use no quota."""
    client = await start_gateway(config([{"name": "a", "key": "ka", "models": ["m"], "rpm": 1}]))
    resp = await client.post("/v1/rerank", **call("ka", model_name="other"))
    assert resp.status == 403
    assert "'other'" in (await resp.json())["message"]
    assert (await client.post("/v1/rerank", **call("ka"))).status == 200


async def test_quota_is_shared_by_two_gateway_processes(redis_server: RedisServer, tmp_path: Path) -> None:
    """Two gateway processes on one Redis enforce one rpm between them, not one each."""
    state = {"backend": "redis", "redis": {"url": redis_server.url}}
    cfg = config([{"name": "a", "key": "ka", "rpm": 4}], state=state)
    gateways = [Gateway(cfg, tmp_path, name=f"gw{i}") for i in range(2)]
    for gw in gateways:
        gw.launch()
    try:
        async with aiohttp.ClientSession() as session:
            for gw in gateways:
                await gw.ready(session)
            statuses = []
            for i in range(8):
                async with session.post(f"{gateways[i % 2].url}/v1/rerank", **call("ka")) as resp:
                    statuses.append(resp.status)
                    if resp.status == 429:
                        assert 1 <= int(resp.headers["Retry-After"]) <= 60
    finally:
        for gw in gateways:
            gw.stop()
    assert statuses == [200] * 4 + [429] * 4
