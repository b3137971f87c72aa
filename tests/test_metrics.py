"""Prometheus metrics at /metrics: parsed with the Prometheus text parser, moving with traffic."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gateway.metrics import Metrics
from tests.conftest import SEED, StartFake, StartGateway, model
from tests.fakes.upstream import status
from tests.gateway_process import write_config
from tests.test_reload import reloader_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: TestClient[Any, Any]) -> Samples:
    """Every sample of /metrics, keyed by name and label set."""
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    text = await resp.text()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist yet."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def until_sample(client: TestClient[Any, Any], name: str, wanted: float) -> None:
    """Return once /metrics shows `wanted` for the unlabelled series `name`; fail after 10 s."""
    for _ in range(1000):
        if value(await scrape(client), name) == wanted:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{name} never became {wanted}")


async def failover_gateway(start_fake: StartFake, start_gateway: StartGateway) -> TestClient[Any, Any]:
    """A gateway whose model `m` tries a Cohere fake that fails once, then a Jina fake."""
    first, first_url = await start_fake("cohere")
    first.then(status(503))
    _, second_url = await start_fake("jina")
    return await start_gateway(
        {
            "providers": {
                "a": {"type": "cohere", "base_url": first_url, "max_retries": 0},
                "b": {"type": "jina", "base_url": second_url},
            },
            "models": {"m": model(("a", "x"), ("b", "y"))},
        }
    )


async def test_counters_move_with_traffic(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A request that fails over counts the request, both attempts, one fallback, documents and tokens."""
    client = await failover_gateway(start_fake, start_gateway)
    before = await scrape(client)
    resp = await client.post("/v1/rerank", json=SEED)
    assert resp.status == 200
    after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("rerank_gateway_requests_total", model="m", dialect="cohere", status="200") == 1
    assert moved("rerank_gateway_upstream_attempts_total", provider="a", outcome="http_503") == 1
    assert moved("rerank_gateway_upstream_attempts_total", provider="b", outcome="ok") == 1
    assert moved("rerank_gateway_fallbacks_total", model="m") == 1
    assert moved("rerank_gateway_documents_total", provider="b") == 4
    assert moved("rerank_gateway_upstream_tokens_total", provider="b") == 40
    assert moved("rerank_gateway_request_duration_seconds_count", model="m", dialect="cohere") == 1
    assert moved("rerank_gateway_upstream_duration_seconds_count", provider="a", result="error") == 1
    assert moved("rerank_gateway_upstream_duration_seconds_count", provider="b", result="ok") == 1
    assert value(after, "rerank_gateway_in_flight_requests") == 0


async def test_failures_are_counted_with_their_status(start_gateway: StartGateway, dead_url: str) -> None:
    """A request whose only provider refuses connections counts as a 502 with its failed attempts."""
    provider = {"type": "cohere", "base_url": dead_url, "max_retries": 1}
    client = await start_gateway({"providers": {"a": provider}, "models": {"m": model(("a", "x"))}})
    resp = await client.post("/v1/rerank", json=SEED)
    assert resp.status == 502
    samples = await scrape(client)
    assert value(samples, "rerank_gateway_requests_total", model="m", dialect="cohere", status="502") == 1
    # A refused connection is not retried on the same host (it fails over at once), even with max_retries.
    assert value(samples, "rerank_gateway_upstream_attempts_total", provider="a", outcome="connect_error") == 1
    assert value(samples, "rerank_gateway_fallbacks_total", model="m") == 0


async def test_client_chosen_names_do_not_become_labels(start_gateway: StartGateway) -> None:
    """An unknown model is counted as `unknown`, so clients cannot create series at will."""
    client = await start_gateway({"providers": {"l": {"type": "local"}}, "models": {"m": model(("l", "bm25"))}})
    resp = await client.post("/v1/rerank", json={**SEED, "model": "made-up-by-a-client"})
    assert resp.status == 404
    samples = await scrape(client)
    assert value(samples, "rerank_gateway_requests_total", model="unknown", dialect="cohere", status="404") == 1
    assert not any("made-up-by-a-client" in str(labels) for _, labels in samples)


async def test_probes_and_scrapes_are_not_counted(start_gateway: StartGateway) -> None:
    """Probes and scrapes leave the request counters alone, so they do not drown the traffic."""
    client = await start_gateway({"providers": {"l": {"type": "local"}}, "models": {"m": model(("l", "bm25"))}})
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert (await client.get(path)).status == 200
    samples = await scrape(client)
    assert not [key for key in samples if key[0] == "rerank_gateway_requests_total"]


async def test_each_app_has_its_own_registry(start_gateway: StartGateway) -> None:
    """Two gateways in one process count separately."""
    config = {"providers": {"l": {"type": "local"}}, "models": {"m": model(("l", "bm25"))}}
    one, two = await start_gateway(config), await start_gateway(config)
    assert (await one.post("/v1/rerank", json=SEED)).status == 200
    assert value(await scrape(one), "rerank_gateway_requests_total", model="m", dialect="cohere", status="200") == 1
    assert value(await scrape(two), "rerank_gateway_requests_total", model="m", dialect="cohere", status="200") == 0


def test_breaker_hook_sets_the_gauge() -> None:
    """The function a circuit breaker calls sets the per-provider state gauge (0 closed, 2 open)."""
    metrics = Metrics()
    metrics.breakers_configured({"a": "closed", "b": "closed"})
    metrics.breaker_changed("a", "open")
    metrics.breaker_changed("b", "closed")
    metrics.breaker_changed("b", "half_open")
    samples = {
        (s.name, s.labels.get("provider")): s.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for s in family.samples
    }
    assert samples[("rerank_gateway_provider_breaker_state", "a")] == 2
    assert samples[("rerank_gateway_provider_breaker_state", "b")] == 1


BREAKER = "rerank_gateway_provider_breaker_state"


def breaker_series(samples: Samples) -> dict[str, float]:
    """The breaker gauge's value per provider label."""
    return {dict(labels)["provider"]: v for (name, labels), v in samples.items() if name == BREAKER}


async def test_breaker_gauge_follows_the_configured_providers(
    start_fake: StartFake, start_gateway: StartGateway, tmp_path: Path
) -> None:
    """Enabled providers show closed from the start; a reload drops removed ones, and kept ones keep their state."""
    _, url = await start_fake("cohere", default=status(500))
    providers = {
        "a": {"type": "cohere", "base_url": url, "max_retries": 0, "breaker": {"failures": 1}},
        "b": {"type": "local"},
        "off": {"type": "cohere", "base_url": url, "api_key": "${UNSET_KEY}"},
    }
    client = await start_gateway({"providers": providers, "models": {"m": model(("a", "x"), ("b", "bm25"))}})
    assert breaker_series(await scrape(client)) == {"a": 0, "b": 0}
    assert (await client.post("/v1/rerank", json=SEED)).status == 200  # a fails and opens, b answers
    reloaded = {
        "providers": {"a": providers["a"], "c": {"type": "local"}},
        "models": {"m": model(("a", "x"), ("c", "bm25"))},
    }
    reloader = reloader_for(client, write_config(tmp_path / "config.yaml", reloaded))
    assert await reloader.reload("test")
    assert breaker_series(await scrape(client)) == {"a": 2, "c": 0}
    await reloader.aclose()


async def test_score_cache_and_redis_state_are_exported(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A miss then a hit move the cache counters; without Redis, redis_up reads 0."""
    fake, url = await start_fake("cohere")
    client = await start_gateway(
        {"providers": {"c": {"type": "cohere", "base_url": url}}, "models": {"m": model(("c", "x"))}}
    )
    for _ in range(2):
        assert (await client.post("/v1/rerank", json=SEED)).status == 200
    samples = await scrape(client)
    assert fake.calls == 1
    assert value(samples, "rerank_gateway_cache_requests_total", outcome="miss") == 1
    assert value(samples, "rerank_gateway_cache_requests_total", outcome="hit") == 1
    assert value(samples, "rerank_gateway_cache_documents_total", source="upstream") == len(SEED["documents"])
    assert value(samples, "rerank_gateway_cache_documents_total", source="cache") == len(SEED["documents"])
    assert value(samples, "rerank_gateway_redis_up") == 0
    assert value(samples, "rerank_gateway_redis_fallbacks_total") == 0


async def test_a_provider_passed_over_is_counted_but_not_timed(
    start_fake: StartFake, start_gateway: StartGateway, dead_url: str
) -> None:
    """Behind an open breaker, the primary's skip counts as an attempt but adds no upstream duration."""
    _, url = await start_fake("cohere")
    client = await start_gateway(
        {
            "providers": {
                "a": {"type": "cohere", "base_url": dead_url, "max_retries": 0, "breaker": {"failures": 1}},
                "b": {"type": "cohere", "base_url": url},
            },
            "models": {"m": model(("a", "x"), ("b", "y"))},
            "cache": {"enabled": False},  # the same body twice: both must reach a provider
        }
    )
    assert (await client.post("/v1/rerank", json=SEED)).status == 200  # a is refused: its breaker opens
    before = await scrape(client)
    assert (await client.post("/v1/rerank", json=SEED)).status == 200
    after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("rerank_gateway_upstream_attempts_total", provider="a", outcome="breaker_open") == 1
    assert moved("rerank_gateway_upstream_duration_seconds_count", provider="a", result="error") == 0
    assert moved("rerank_gateway_upstream_duration_seconds_count", provider="b", result="ok") == 1
