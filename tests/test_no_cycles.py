"""Requests that fail over leave no reference cycle behind: their documents go as soon as they are answered."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.model import Document, RerankRequest
from tests.conftest import SEED, StartFake, StartGateway, model
from tests.fakes.upstream import status


@pytest.fixture
def saved_garbage() -> Iterator[list[Any]]:
    """Collection off, and every unreachable object kept for inspection, for the test's duration."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def held(garbage: list[Any]) -> list[Any]:
    """The gateway's request objects among the cyclic garbage found now."""
    gc.collect()
    return [o for o in garbage if isinstance(o, RerankRequest | Document)]


@pytest.mark.parametrize(
    "primary",
    [
        {"max_retries": 0},  # refused: fails over at once
        {"max_retries": 1, "breaker": {"failures": 1}},  # refused, its breaker opens: later requests skip it
    ],
    ids=["refused", "breaker open"],
)
async def test_failover_leaves_no_cycles(
    primary: dict[str, Any],
    start_fake: StartFake,
    start_gateway: StartGateway,
    dead_url: str,
    saved_garbage: list[Any],
) -> None:
    """Answered after a failed or skipped primary, no request or document is left in a reference cycle."""
    _, url = await start_fake("cohere")
    client = await start_gateway(
        {
            "providers": {
                "a": {"type": "cohere", "base_url": dead_url, **primary},
                "b": {"type": "cohere", "base_url": url},
            },
            "models": {"m": model(("a", "x"), ("b", "y"))},
            "cache": {"enabled": False},
        }
    )
    for _ in range(3):
        resp = await client.post("/v1/rerank", json=SEED)
        assert resp.status == 200
        assert resp.headers["x-rerank-provider"] == "b"
    assert held(saved_garbage) == []


async def test_retried_provider_leaves_no_cycles(
    start_fake: StartFake, start_gateway: StartGateway, saved_garbage: list[Any]
) -> None:
    """A provider that answers 503 and then succeeds on its retry leaves no request in a reference cycle."""
    fake, url = await start_fake("cohere")
    fake.then(status(503))
    client = await start_gateway(
        {
            "providers": {"a": {"type": "cohere", "base_url": url, "max_retries": 1}},
            "models": {"m": model(("a", "x"))},
            "cache": {"enabled": False},
        }
    )
    resp = await client.post("/v1/rerank", json=SEED)
    assert resp.status == 200
    assert resp.headers["x-rerank-attempts"] == "2"
    assert held(saved_garbage) == []
