"""Fault: 500 concurrent requests with unique documents against randomly failing and slow upstreams."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from tests.conftest import StartFake, StartGateway, model
from tests.fakes.upstream import Behaviour, FakeUpstream, det_score, mangle, ok, reset, status
from tests.faults.conftest import check_integrity

REQUESTS = 500


def chaos(fake: FakeUpstream, rng: random.Random) -> None:
    """Script a fake with a random mix of answers, delays, 5xx, resets and broken rankings."""
    menu: list[Behaviour] = [
        ok(),
        ok(),
        ok(delay=0.01),
        ok(delay=0.05),
        status(503),
        status(500),
        reset(),
        mangle("duplicate"),
        mangle("short"),
    ]
    fake.then(*(rng.choice(menu) for _ in range(3 * REQUESTS)))


async def test_every_answer_belongs_to_its_request(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Every 200 passes the integrity rules and carries exactly the scores of its own query and documents."""
    rng = random.Random(1234)
    providers: dict[str, Any] = {}
    for name, dialect in (("a", "cohere"), ("b", "jina"), ("c", "siliconflow")):
        fake, url = await start_fake(dialect)
        chaos(fake, rng)
        providers[name] = {"type": dialect, "base_url": url, "max_retries": 1}
    config = {
        "providers": providers,
        "models": {"m": model(("a", "x"), ("b", "y"), ("c", "z"))},
        "resilience": {"breaker": {"failures": 1_000_000, "min_calls": 1_000_000}},
    }
    client = await start_gateway(config)

    async def one(i: int) -> int:
        n = 1 + i % 7
        query = f"query {i}"
        docs = [f"request {i} document {j}" for j in range(n)]
        top_n = 1 + i % 5
        resp = await client.post("/v1/rerank", json={"model": "m", "query": query, "documents": docs, "top_n": top_n})
        if resp.status == 200:
            data = await resp.json()
            check_integrity(data, n=n, top_n=top_n)
            for r in data["results"]:
                assert r["relevance_score"] == det_score(query, docs[r["index"]])
        else:
            assert resp.status in (502, 503)
        return resp.status

    statuses = await asyncio.gather(*(one(i) for i in range(REQUESTS)))
    assert statuses.count(200) > REQUESTS // 2
