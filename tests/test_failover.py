"""Ordered failover across providers of different dialects, invisible to the client."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import StartFake, StartGateway, model
from tests.fakes.clock import FakeClock
from tests.fakes.upstream import Behaviour, det_score, hang, mangle, ok, raw, reset, status

QUERY = "capital of France"
DOCS = [f"document number {i}" for i in range(6)]
BODY = {"model": "m", "query": QUERY, "documents": DOCS}


def expected_order(docs: list[str]) -> list[int]:
    """The ranking every fake produces for DOCS."""
    return sorted(range(len(docs)), key=lambda i: (-det_score(QUERY, docs[i]), i))


def two_providers(primary: str, primary_type: str, secondary: str, **extra: Any) -> dict[str, Any]:
    return {
        "providers": {
            "primary": {"type": primary_type, "base_url": primary, "api_key": "pk-primary-secret", **extra},
            "secondary": {"type": "jina", "base_url": secondary, "api_key": "pk-secondary-secret"},
        },
        "models": {"m": model(("primary", "p-model"), ("secondary", "s-model"))},
    }


@pytest.mark.parametrize(
    ("behaviour", "outcome", "tries"),
    [
        (status(500), "http_500", 3),
        (status(503), "http_503", 3),
        (status(502), "http_502", 3),
        (status(401), "http_401", 1),
        (status(403), "http_403", 1),
        (status(404), "http_404", 1),
        (status(400), "http_400", 1),
        (raw(b"{not json"), "invalid_response", 1),
        (raw(b'{"results": 1}'), "invalid_response", 1),
        (raw(b"<html>busy</html>", content_type="text/html"), "invalid_response", 1),
        (mangle("short"), "invalid_response", 1),
        (mangle("out_of_range"), "invalid_response", 1),
        (mangle("duplicate"), "invalid_response", 1),
        (mangle("bool_index"), "invalid_response", 1),
        (mangle("string_score"), "invalid_response", 1),
        (mangle("nan"), "invalid_response", 1),
        (reset(), "disconnected", 3),
    ],
)
async def test_failure_fails_over_to_the_next_provider(
    start_fake: StartFake, start_gateway: StartGateway, behaviour: Behaviour, outcome: str, tries: int
) -> None:
    """Each kind of primary failure ends in the secondary's correct answer; retries only where they help."""
    primary, p_url = await start_fake("cohere")
    primary.default = behaviour
    secondary, s_url = await start_fake("jina")
    client = await start_gateway(two_providers(p_url, "cohere", s_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    data = await resp.json()
    assert [r["index"] for r in data["results"]] == expected_order(DOCS)
    assert resp.headers["x-rerank-provider"] == "secondary"
    assert resp.headers["x-rerank-attempts"] == str(tries + 1)
    assert primary.calls == tries
    assert secondary.calls == 1


async def test_refused_connection_fails_over(start_fake: StartFake, start_gateway: StartGateway, dead_url: str) -> None:
    """A primary that refuses connections is retried, then the secondary answers."""
    secondary, s_url = await start_fake("jina")
    client = await start_gateway(two_providers(dead_url, "siliconflow", s_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "secondary"
    assert secondary.calls == 1


async def test_timeout_fails_over(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A primary that never answers times out per attempt and the secondary answers."""
    primary, p_url = await start_fake("cohere")
    primary.default = hang()
    _secondary, s_url = await start_fake("jina")
    config = two_providers(p_url, "cohere", s_url, timeout=0.2, max_retries=1)
    client = await start_gateway(config)
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "secondary"
    assert primary.calls == 2


async def test_retry_recovers_on_the_same_provider(
    start_fake: StartFake, start_gateway: StartGateway, sleeps: list[float]
) -> None:
    """A 503 then a success is answered by the same provider after one backoff."""
    primary, p_url = await start_fake("siliconflow")
    primary.then(status(503), ok())
    secondary, s_url = await start_fake("jina")
    client = await start_gateway(two_providers(p_url, "siliconflow", s_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "primary"
    assert resp.headers["x-rerank-attempts"] == "2"
    assert secondary.calls == 0
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 2.0


async def test_429_retry_after_is_honoured(
    start_fake: StartFake, start_gateway: StartGateway, sleeps: list[float]
) -> None:
    """A 429 with Retry-After within the deadline waits exactly that long and retries."""
    primary, p_url = await start_fake("cohere")
    primary.then(status(429, headers={"Retry-After": "3"}), ok())
    _secondary, s_url = await start_fake("jina")
    # The 429 opens the breaker for 3 s; the injected clock lets the wait actually pass that time.
    client = await start_gateway(two_providers(p_url, "cohere", s_url), clock=FakeClock())
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "primary"
    assert sleeps == [3.0]


async def test_429_retry_after_past_the_deadline_fails_over(
    start_fake: StartFake, start_gateway: StartGateway, sleeps: list[float]
) -> None:
    """A Retry-After longer than the time left is not waited for: the next provider answers at once."""
    primary, p_url = await start_fake("cohere")
    primary.then(status(429, headers={"Retry-After": "120"}), ok())
    _secondary, s_url = await start_fake("jina")
    client = await start_gateway(two_providers(p_url, "cohere", s_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "secondary"
    assert sleeps == []
    assert primary.calls == 1


async def test_top_n_reaches_the_upstream_and_the_client(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Without the score cache, top_n is sent upstream in the provider's dialect; the client gets top_n results."""
    primary, p_url = await start_fake("cohere")
    primary.default = status(500)
    secondary, s_url = await start_fake("jina")
    config = two_providers(p_url, "cohere", s_url)
    config["cache"] = {"enabled": False}  # the score cache asks for every score; without it top_n is forwarded
    client = await start_gateway(config)
    resp = await client.post("/v1/rerank", json={**BODY, "top_n": 2, "return_documents": True})
    data = await resp.json()
    assert [r["index"] for r in data["results"]] == expected_order(DOCS)[:2]
    assert all(r["document"] == {"text": DOCS[r["index"]]} for r in data["results"])
    assert secondary.received[0]["top_n"] == 2
    assert secondary.received[0]["model"] == "s-model"
    assert secondary.received[0]["return_documents"] is False
    assert primary.received[0]["model"] == "p-model"


async def test_all_providers_failing_is_502_with_attempts(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """When every provider fails, the client gets 502 and every attempt, with no upstream body or key."""
    primary, p_url = await start_fake("cohere")
    primary.default = status(500, body={"message": "upstream-internal-detail"})
    secondary, s_url = await start_fake("jina")
    secondary.default = raw(b"garbage")
    client = await start_gateway(two_providers(p_url, "cohere", s_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 502
    text = await resp.text()
    data = await resp.json()
    assert [a["provider"] for a in data["attempts"]] == ["primary"] * 3 + ["secondary"]
    assert [a["outcome"] for a in data["attempts"]] == ["http_500"] * 3 + ["invalid_response"]
    assert all(a["duration_ms"] >= 0 for a in data["attempts"])
    assert "upstream-internal-detail" not in text
    assert "secret" not in text


async def test_all_overloaded_is_503_with_retry_after(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """When every provider is rate limited past the deadline, the client gets 503 with Retry-After."""
    primary, p_url = await start_fake("cohere")
    primary.default = status(429, headers={"Retry-After": "100"})
    secondary, s_url = await start_fake("jina")
    secondary.default = status(429, headers={"Retry-After": "100"})
    client = await start_gateway(two_providers(p_url, "cohere", s_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 503
    assert resp.headers["Retry-After"] == "100"


async def test_deadline_exhausted_is_504(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Providers that hang past the request deadline give 504, with the attempts listed."""
    primary, p_url = await start_fake("cohere")
    primary.default = hang()
    secondary, s_url = await start_fake("jina")
    secondary.default = hang()
    config = two_providers(p_url, "cohere", s_url)
    config["models"]["m"]["timeout"] = 0.3
    client = await start_gateway(config)
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 504
    data = await resp.json()
    assert data["type"] == "deadline_exceeded"
    assert data["attempts"][0]["outcome"] == "timeout"


async def test_disabled_provider_is_skipped(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A provider whose key variable is unset is never called; the next one answers."""
    primary, p_url = await start_fake("cohere")
    _secondary, s_url = await start_fake("jina")
    config = two_providers(p_url, "cohere", s_url)
    config["providers"]["primary"]["api_key"] = "${PRIMARY_KEY}"
    client = await start_gateway(config)
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "secondary"
    assert resp.headers["x-rerank-attempts"] == "1"
    assert primary.calls == 0


async def test_every_provider_disabled_is_503(start_gateway: StartGateway) -> None:
    """A model with no enabled provider answers 503, not 500."""
    config = {
        "providers": {"p": {"type": "cohere", "base_url": "http://127.0.0.1:9", "api_key": "${NOPE}"}},
        "models": {"m": model(("p", "x"))},
    }
    client = await start_gateway(config)
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 503
    assert (await resp.json())["type"] == "no_provider_available"


async def test_fails_over_to_the_local_ranker(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """With every remote provider down, the local ranker still gives a complete ranking."""
    primary, p_url = await start_fake("cohere")
    primary.default = status(503)
    config = {
        "providers": {"remote": {"type": "cohere", "base_url": p_url, "api_key": "k"}, "local": {"type": "local"}},
        "models": {"m": model(("remote", "r"), ("local", "bm25"))},
    }
    client = await start_gateway(config)
    resp = await client.post(
        "/v1/rerank", json={"model": "m", "query": "France", "documents": ["Paris, France", "Rome"]}
    )
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "local"
    assert [r["index"] for r in (await resp.json())["results"]] == [0, 1]


async def test_upstream_gets_its_key_and_the_document_texts(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """The upstream receives its own key as a Bearer token and the client's texts in order."""
    primary, p_url = await start_fake("cohere", api_key="pk-primary-secret")
    _secondary, s_url = await start_fake("jina")
    client = await start_gateway(two_providers(p_url, "cohere", s_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.headers["x-rerank-provider"] == "primary"
    assert primary.headers_seen[0]["Authorization"] == "Bearer pk-primary-secret"
    assert primary.received[0]["documents"] == DOCS
    assert primary.received[0]["query"] == QUERY
