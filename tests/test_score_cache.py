"""The score cache: overlapping requests send only new documents upstream, and never mix up scores."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.web.keys import STATE
from tests.conftest import StartFake, StartGateway, model
from tests.fakes.upstream import det_score, status
from tests.procs import RedisServer

QUERY = "what is a reranker"
DOCS = [f"document number {i} about ranking" for i in range(15)]


def config(providers: dict[str, str], models: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A gateway config with fake Cohere providers at the given URLs."""
    specs = {name: {"type": "cohere", "base_url": url, "max_retries": 0} for name, url in providers.items()}
    return {"providers": specs, "models": models, **extra}


def check_scores(data: dict[str, Any], docs: list[str], query: str = QUERY) -> None:
    """Every result's score is the fake's score for the document at that index of the client's list."""
    for r in data["results"]:
        assert r["relevance_score"] == det_score(query, docs[r["index"]])


async def rerank(client: Any, docs: list[Any], **extra: Any) -> tuple[dict[str, Any], str]:
    body = {"model": "m", "query": QUERY, "documents": docs, **extra}
    resp = await client.post("/v1/rerank", json=body)
    assert resp.status == 200, await resp.text()
    return await resp.json(), resp.headers["x-rerank-cache"]


async def test_overlapping_requests_send_only_new_documents(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A miss, then a partial hit sending only the unseen documents, then a full hit sending none."""
    fake, url = await start_fake("cohere")
    client = await start_gateway(config({"p": url}, {"m": model(("p", "up-model"))}))

    first, cache = await rerank(client, DOCS[:10], top_n=3)
    assert cache == "miss"
    assert fake.received[-1]["documents"] == DOCS[:10]
    assert "top_n" not in fake.received[-1]  # every score comes back, so every score can be cached
    assert len(first["results"]) == 3
    check_scores(first, DOCS[:10])

    second_docs = DOCS[5:15]
    second, cache = await rerank(client, second_docs)
    assert cache == "partial"
    assert fake.received[-1]["documents"] == DOCS[10:15]
    assert sorted(r["index"] for r in second["results"]) == list(range(10))
    check_scores(second, second_docs)
    scores = [r["relevance_score"] for r in second["results"]]
    assert scores == sorted(scores, reverse=True)

    third_docs = [DOCS[12], DOCS[0], DOCS[7], DOCS[3]]
    third, cache = await rerank(client, third_docs, top_n=2)
    assert cache == "hit"
    assert fake.calls == 2
    assert len(third["results"]) == 2
    check_scores(third, third_docs)

    counters = client.app[STATE].counters.snapshot()
    assert (counters["cache_miss"], counters["cache_partial"], counters["cache_hit"]) == (1, 1, 1)
    assert counters["cache_documents_upstream"] == 15
    assert counters["cache_documents_cached"] == 5 + 4


async def test_duplicates_are_sent_once_and_scored_at_every_index(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A document listed twice goes upstream once, and both of its indices get its score."""
    fake, url = await start_fake("cohere")
    client = await start_gateway(config({"p": url}, {"m": model(("p", "x"))}))
    docs = ["alpha", "beta", "alpha", "gamma", "beta"]
    data, cache = await rerank(client, docs)
    assert cache == "miss"
    assert fake.received[-1]["documents"] == ["alpha", "beta", "gamma"]
    assert sorted(r["index"] for r in data["results"]) == [0, 1, 2, 3, 4]
    check_scores(data, docs)


async def test_scores_are_kept_per_query_provider_and_upstream_model(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """Another query, another provider entry or another upstream model never reuses a cached score."""
    fake_p, url_p = await start_fake("cohere")
    fake_q, url_q = await start_fake("cohere")
    models = {"m": model(("p", "one")), "m2": model(("p", "two")), "m3": model(("q", "one"))}
    client = await start_gateway(config({"p": url_p, "q": url_q}, models))
    docs = DOCS[:4]
    assert (await rerank(client, docs))[1] == "miss"
    for other in ("m2", "m3"):
        resp = await client.post("/v1/rerank", json={"model": other, "query": QUERY, "documents": docs})
        assert resp.headers["x-rerank-cache"] == "miss"
    resp = await client.post("/v1/rerank", json={"model": "m", "query": "another query", "documents": docs})
    assert resp.headers["x-rerank-cache"] == "miss"
    check_scores(await resp.json(), docs, query="another query")
    assert [len(b["documents"]) for b in fake_p.received] == [4, 4, 4]
    assert [len(b["documents"]) for b in fake_q.received] == [4]


async def test_failover_never_merges_two_providers_scores(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """When the provider with cached scores fails, the next provider scores every document itself."""
    fake_p, url_p = await start_fake("cohere")
    fake_q, url_q = await start_fake("cohere")
    client = await start_gateway(config({"p": url_p, "q": url_q}, {"m": model(("p", "x"), ("q", "x"))}))
    await rerank(client, DOCS[:5])
    fake_p.then(status(500))
    data, cache = await rerank(client, DOCS[:8])
    assert cache == "miss"
    assert fake_p.received[-1]["documents"] == DOCS[5:8]
    assert fake_q.received[-1]["documents"] == DOCS[:8]
    check_scores(data, DOCS[:8])


async def test_local_ranker_and_a_disabled_cache_are_not_cached(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """The local ranker (its scores depend on the whole list) and `cache.enabled: false` answer `off`."""
    fake, url = await start_fake("cohere")
    cfg = config({"p": url}, {"m": model(("p", "x")), "lex": model(("local", "bm25"))}, cache={"enabled": False})
    cfg["providers"]["local"] = {"type": "local"}
    client = await start_gateway(cfg)
    for _ in range(2):
        _, cache = await rerank(client, DOCS[:3], top_n=1)
        assert cache == "off"
    assert [b.get("top_n") for b in fake.received] == [1, 1]
    cfg["cache"] = {"enabled": True}
    client = await start_gateway(cfg)
    for _ in range(2):
        resp = await client.post("/v1/rerank", json={"model": "lex", "query": QUERY, "documents": DOCS[:3]})
        assert resp.headers["x-rerank-cache"] == "off"


async def test_replicas_share_scores_through_redis_under_hashed_keys(
    start_fake: StartFake, start_gateway: StartGateway, redis_server: RedisServer
) -> None:
    """A second gateway reuses the first one's scores from Redis; Redis holds only sha256 keys and numbers."""
    fake, url = await start_fake("cohere")
    state = {"backend": "redis", "redis": {"url": redis_server.url, "key_prefix": "rg:"}}
    cfg = config({"p": url}, {"m": model(("p", "x"))}, state=state)
    one, two = await start_gateway(cfg), await start_gateway(cfg)
    await rerank(one, DOCS[:10])
    data, cache = await rerank(two, DOCS[5:15])
    assert cache == "partial"
    assert fake.received[-1]["documents"] == DOCS[10:15]
    check_scores(data, DOCS[5:15])

    redis = one.app[STATE].health
    assert redis is not None
    keys = [k.decode() for k in await redis.link.client.keys("*")]
    assert len(keys) == 15
    assert all(re.fullmatch(r"rg:score:[0-9a-f]{64}", k) for k in keys)
    values = await redis.link.client.mget(keys)
    assert all(float(v) > 0 for v in values)


@pytest.mark.parametrize("route", ["/v1/rerank", "/jina/v1/rerank"])
async def test_object_documents_are_keyed_by_what_goes_upstream(
    start_fake: StartFake, start_gateway: StartGateway, route: str
) -> None:
    """Objects share a score when only their text goes upstream; with rank_fields the whole object counts."""
    fake, url = await start_fake("cohere")
    client = await start_gateway(config({"p": url}, {"m": model(("p", "x"))}))
    body: dict[str, Any] = {"model": "m", "query": QUERY, "documents": [{"text": "same", "id": 1}]}
    assert (await client.post(route, json=body)).headers["x-rerank-cache"] == "miss"
    body["documents"] = [{"text": "same", "id": 2}]
    assert (await client.post(route, json=body)).headers["x-rerank-cache"] == "hit"
    body = {"model": "m", "query": QUERY, "documents": [{"title": 1}], "rank_fields": ["title"]}
    assert (await client.post(route, json=body)).headers["x-rerank-cache"] == "miss"
    assert fake.received[-1]["documents"] == [{"title": 1}]
    body["documents"] = [{"title": "1"}]  # the same text for the gateway, another object for the provider
    assert (await client.post(route, json=body)).headers["x-rerank-cache"] == "miss"


async def test_image_documents_are_keyed_by_their_image(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Two image-only documents (both with the text "") keep their own scores; the same image hits."""
    fake, url = await start_fake("jina")
    client = await start_gateway(
        {"providers": {"j": {"type": "jina", "base_url": url, "max_retries": 0}}, "models": {"m": model(("j", "m0"))}}
    )
    cat, dog = {"image": "https://example.com/cat.png"}, {"image": "https://example.com/dog.png"}
    first, cache = await rerank(client, [cat, "x"])
    assert cache == "miss"
    second, cache = await rerank(client, [dog, "x"])
    assert cache == "partial"
    assert fake.received[-1]["documents"] == [dog]
    scores = [{r["index"]: r["relevance_score"] for r in d["results"]} for d in (first, second)]
    assert scores[0][0] == det_score(QUERY, '{"image":"https://example.com/cat.png"}')
    assert scores[1][0] == det_score(QUERY, '{"image":"https://example.com/dog.png"}')
    assert (await rerank(client, [cat]))[1] == "hit"


async def test_a_text_only_provider_never_answers_images_from_cache(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A text score cached at a text-only provider is not reused for an image document with that text."""
    _, cohere_url = await start_fake("cohere")
    jina, jina_url = await start_fake("jina")
    providers = {
        "text": {"type": "cohere", "base_url": cohere_url, "max_retries": 0},
        "images": {"type": "jina", "base_url": jina_url, "max_retries": 0},
    }
    client = await start_gateway({"providers": providers, "models": {"m": model(("text", "x"), ("images", "m0"))}})
    body: dict[str, Any] = {"model": "m", "query": QUERY, "documents": ["a cat"]}
    assert (await client.post("/v1/rerank", json=body)).headers["x-rerank-provider"] == "text"
    body["documents"] = [{"image": "https://example.com/cat.png", "text": "a cat"}]
    resp = await client.post("/v1/rerank", json=body)
    assert resp.status == 200, await resp.text()
    assert resp.headers["x-rerank-provider"] == "images"
    assert jina.received[-1]["documents"] == body["documents"]
