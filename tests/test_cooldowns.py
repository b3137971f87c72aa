"""Shared cool-downs: a provider that said "come back later" is skipped, by every replica, until then."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from gateway.web.keys import STATE
from tests.conftest import StartFake, StartGateway, model
from tests.fakes.upstream import status
from tests.procs import Gateway, RedisServer

BODY = {"model": "m", "query": "q", "documents": ["a", "b", "c"]}


def config(p: str, q: str | None = None, **extra: Any) -> dict[str, Any]:
    """Model `m`: provider p, then (if given) provider q; no retries at the same provider."""
    providers = {"p": {"type": "cohere", "base_url": p, "max_retries": 0}}
    routes = [("p", "x")]
    if q is not None:
        providers["q"] = {"type": "cohere", "base_url": q, "max_retries": 0}
        routes.append(("q", "x"))
    return {"providers": providers, "models": {"m": model(*routes)}, "cache": {"enabled": False}, **extra}


def shared(redis_server: RedisServer) -> dict[str, Any]:
    """Redis state: the cool-downs are shared (alone, a process's breakers are its cool-downs)."""
    return {"backend": "redis", "redis": {"url": redis_server.url}}


async def test_a_429_with_retry_after_cools_the_provider_down(
    start_fake: StartFake, start_gateway: StartGateway, redis_server: RedisServer
) -> None:
    """After a 429 with Retry-After the next requests go straight to the next provider."""
    fake_p, url_p = await start_fake("cohere")
    fake_q, url_q = await start_fake("cohere")
    client = await start_gateway(config(url_p, url_q, state=shared(redis_server)))
    fake_p.then(status(429, headers={"Retry-After": "30"}))
    first = await client.post("/v1/rerank", json=BODY)
    assert first.status == 200
    assert first.headers["x-rerank-provider"] == "q"
    for _ in range(3):
        resp = await client.post("/v1/rerank", json=BODY)
        assert resp.status == 200
        assert resp.headers["x-rerank-provider"] == "q"
        assert resp.headers["x-rerank-attempts"] == "2"  # the skip is recorded, as outcome `cooldown`
    assert fake_p.calls == 1
    assert fake_q.calls == 4


async def test_errors_without_retry_after_do_not_cool_down(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A 503 without Retry-After, or a 500, says nothing about when to come back: no cool-down."""
    fake_p, url_p = await start_fake("cohere")
    _, url_q = await start_fake("cohere")
    client = await start_gateway(config(url_p, url_q))
    fake_p.then(status(503), status(500))
    for _ in range(3):
        assert (await client.post("/v1/rerank", json=BODY)).status == 200
    assert fake_p.calls == 3


async def test_every_provider_cooling_down_is_a_503_with_retry_after(
    start_fake: StartFake, start_gateway: StartGateway, redis_server: RedisServer
) -> None:
    """With its only provider cooling down, a model answers 503, Retry-After, and the skip in attempts."""
    fake_p, url_p = await start_fake("cohere")
    client = await start_gateway(config(url_p, state=shared(redis_server)))
    fake_p.then(status(429, headers={"Retry-After": "20"}))
    assert (await client.post("/v1/rerank", json=BODY)).status == 503
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 503
    assert 1 <= int(resp.headers["Retry-After"]) <= 20
    body = await resp.json()
    assert body["type"] == "no_provider_available"
    assert [(a["provider"], a["outcome"]) for a in body["attempts"]] == [("p", "cooldown")]
    assert fake_p.calls == 1


async def test_retry_after_is_capped_by_max_cooldown(
    start_fake: StartFake, start_gateway: StartGateway, redis_server: RedisServer
) -> None:
    """A provider asking for a day off is skipped for at most `state.max_cooldown` seconds."""
    fake_p, url_p = await start_fake("cohere")
    state = {"backend": "redis", "redis": {"url": redis_server.url, "key_prefix": "c:"}, "max_cooldown": 5}
    client = await start_gateway(config(url_p, state=state))
    fake_p.then(status(429, headers={"Retry-After": "86400"}))
    await client.post("/v1/rerank", json=BODY)
    health = client.app[STATE].health
    assert health is not None
    assert 0 < await health.link.client.pttl("c:cooldown:p") <= 5000


async def test_a_provider_cooled_down_by_one_process_is_skipped_by_another(
    start_fake: StartFake, redis_server: RedisServer, tmp_path: Path
) -> None:
    """Gateway one learns that p is rate-limited; gateway two, another process, never calls p."""
    fake_p, url_p = await start_fake("cohere")
    fake_q, url_q = await start_fake("cohere")
    cfg = config(url_p, url_q, state={"backend": "redis", "redis": {"url": redis_server.url}})
    one, two = Gateway(cfg, tmp_path, name="one"), Gateway(cfg, tmp_path, name="two")
    one.launch()
    two.launch()
    fake_p.then(status(429, headers={"Retry-After": "60"}))
    try:
        async with aiohttp.ClientSession() as session:
            await one.ready(session)
            await two.ready(session)
            async with session.post(f"{one.url}/v1/rerank", json=BODY) as resp:
                assert resp.status == 200
                assert resp.headers["x-rerank-provider"] == "q"
            for _ in range(3):
                async with session.post(f"{two.url}/v1/rerank", json=BODY) as resp:
                    assert resp.status == 200
                    assert resp.headers["x-rerank-provider"] == "q"
    finally:
        one.stop()
        two.stop()
    assert fake_p.calls == 1
    assert fake_q.calls == 4
