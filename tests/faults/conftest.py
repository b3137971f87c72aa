"""Fixtures for the fault matrix: byte-level upstreams, a black hole, and a two-provider config."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.fakes.tcp import BlackHole


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A loopback URL whose TCP connects hang (see BlackHole)."""
    hole = BlackHole()
    yield hole.open()
    hole.close()


def failover(primary: dict[str, Any], backup_url: str | None = None, **model: Any) -> dict[str, Any]:
    """Model `m` tries `primary` (a provider entry), then a Cohere `backup` at `backup_url` if given."""
    providers: dict[str, Any] = {"primary": {"type": "cohere", "max_retries": 0, **primary}}
    routes = [{"provider": "primary", "model": "p-model"}]
    if backup_url is not None:
        providers["backup"] = {"type": "cohere", "base_url": backup_url, "max_retries": 0}
        routes.append({"provider": "backup", "model": "b-model"})
    # Fault tests send the same body again and again, and each must reach the upstream: no score cache.
    return {"providers": providers, "models": {"m": {"providers": routes, **model}}, "cache": {"enabled": False}}


BODY = {"model": "m", "query": "apple", "documents": ["apple", "banana", "car", "fruit"], "top_n": 3}


def check_integrity(data: dict[str, Any], *, n: int, top_n: int | None) -> None:
    """The integrity rules: min(top_n, n) results, each index once and in range, finite, sorted."""
    results = data["results"]
    assert len(results) == (n if top_n is None else min(top_n, n))
    indices = [r["index"] for r in results]
    assert len(set(indices)) == len(indices)
    assert all(type(i) is int and 0 <= i < n for i in indices)
    scores = [r["relevance_score"] for r in results]
    assert all(isinstance(s, float) and math.isfinite(s) for s in scores)
    assert scores == sorted(scores, reverse=True)


def outcomes(data: dict[str, Any]) -> list[str]:
    """The outcome of each attempt in an error body."""
    return [a["outcome"] for a in data["attempts"]]


async def breaker_of(client: TestClient[Any, Any], name: str) -> dict[str, Any]:
    """A provider's breaker as GET /admin/providers shows it (auth off)."""
    data = await (await client.get("/admin/providers")).json()
    return next(p["breaker"] for p in data["providers"] if p["name"] == name)
