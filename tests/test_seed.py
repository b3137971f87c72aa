"""The first run: the seed's curl against the default config answers with real scores offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import StartGateway

ROOT = Path(__file__).resolve().parent.parent


async def test_default_config_answers_the_seed_call(start_gateway: StartGateway) -> None:
    """The shipped config.yaml ranks "apple" first for the query "Apple", with four results sorted."""
    config: dict[str, Any] = yaml.safe_load((ROOT / "config.yaml").read_text())
    client = await start_gateway(config)
    body = {"model": "bge-reranker-v2-m3", "query": "Apple", "documents": ["apple", "banana", "fruit", "vegetable"]}
    resp = await client.post("/v1/rerank", json=body)
    assert resp.status == 200
    data = await resp.json()
    results = data["results"]
    assert results[0]["index"] == 0
    assert sorted(r["index"] for r in results) == [0, 1, 2, 3]
    scores = [r["relevance_score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert data["model"] == "bge-reranker-v2-m3"
    assert isinstance(data["id"], str)
    assert data["id"]
    assert resp.headers["x-rerank-provider"] == "local"
