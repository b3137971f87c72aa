"""Fault: the primary fails every call while clients keep up the load; retries must not multiply it."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import StartFake, StartGateway
from tests.fakes.upstream import status
from tests.faults.conftest import BODY, failover

REQUESTS = 200
RATIO = 0.2
MIN_PER_SECOND = 0.1
WINDOW = 60.0  # longer than any run, so the bound below cannot refill mid-test


async def load(client: TestClient[Any, Any], *, concurrency: int = 20) -> list[int]:
    """Send REQUESTS requests, `concurrency` at a time; return the statuses."""
    statuses: list[int] = []
    for _ in range(REQUESTS // concurrency):
        answers = await asyncio.gather(*(client.post("/v1/rerank", json=BODY) for _ in range(concurrency)))
        statuses.extend(r.status for r in answers)
    return statuses


async def test_retries_stay_within_the_budget(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """With the breaker out of the way, upstream calls per request stay within 1 + ratio + 1 (plus the reserve)."""
    primary, primary_url = await start_fake("cohere", default=status(503))
    backup, backup_url = await start_fake("cohere")
    config = failover({"base_url": primary_url, "max_retries": 3}, backup_url)
    config["resilience"] = {
        "retry_budget": {"ratio": RATIO, "min_per_second": MIN_PER_SECOND, "window": WINDOW},
        "breaker": {"failures": 1_000_000, "min_calls": 1_000_000},
    }
    client = await start_gateway(config)
    assert await load(client) == [200] * REQUESTS
    reserve = MIN_PER_SECOND * WINDOW
    assert primary.calls <= REQUESTS * (1 + RATIO) + reserve
    assert primary.calls + backup.calls <= REQUESTS * (1 + RATIO + 1) + reserve
    # Without the budget, max_retries=3 would have sent 4 calls per request to the failing primary.
    assert primary.calls < 2 * REQUESTS


async def test_breaker_stops_the_calls_altogether(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """With default breaker settings, the failing primary sees a handful of calls, not one per request."""
    primary, primary_url = await start_fake("cohere", default=status(503))
    _, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url, "max_retries": 2}, backup_url))
    assert await load(client) == [200] * REQUESTS
    assert primary.calls <= 40
