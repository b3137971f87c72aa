"""Fault: every provider of the model fails, each in its own way."""

from __future__ import annotations

from tests.conftest import StartFake, StartGateway, model
from tests.fakes.upstream import mangle, status


async def test_every_failure_is_listed_in_order(
    start_fake: StartFake, start_gateway: StartGateway, dead_url: str
) -> None:
    """Refused, 500 and a broken ranking: a 502 whose attempts name each provider's failure, in order."""
    _, five_url = await start_fake("cohere", default=status(500))
    _, broken_url = await start_fake("jina", default=mangle("duplicate"))
    config = {
        "providers": {
            "a": {"type": "cohere", "base_url": dead_url, "max_retries": 0},
            "b": {"type": "cohere", "base_url": five_url, "max_retries": 0},
            "c": {"type": "jina", "base_url": broken_url, "max_retries": 0},
        },
        "models": {"m": model(("a", "x"), ("b", "y"), ("c", "z"))},
    }
    client = await start_gateway(config)
    resp = await client.post("/v1/rerank", json={"model": "m", "query": "q", "documents": ["d1", "d2"]})
    assert resp.status == 502
    data = await resp.json()
    assert data["type"] == "upstream_error"
    assert [(a["provider"], a["outcome"]) for a in data["attempts"]] == [
        ("a", "connect_error"),
        ("b", "http_500"),
        ("c", "invalid_response"),
    ]


async def test_all_overloaded_is_a_503_with_retry_after(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """When every provider says it is overloaded, the client gets 503 and the soonest Retry-After."""
    _, a_url = await start_fake("cohere", default=status(503, headers={"Retry-After": "7"}))
    _, b_url = await start_fake("cohere", default=status(429, headers={"Retry-After": "40"}))
    config = {
        "providers": {
            "a": {"type": "cohere", "base_url": a_url, "max_retries": 0},
            "b": {"type": "cohere", "base_url": b_url, "max_retries": 0},
        },
        "models": {"m": model(("a", "x"), ("b", "y"))},
    }
    client = await start_gateway(config)
    resp = await client.post("/v1/rerank", json={"model": "m", "query": "q", "documents": ["d1"]})
    assert resp.status == 503
    assert resp.headers["Retry-After"] == "7"
