"""Active health checks: a known-answer rerank call on an interval, feeding the breaker."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from gateway.runtime import Runtime
from gateway.web.keys import runtime
from tests.conftest import StartFake, StartGateway
from tests.fakes.clock import FakeClock
from tests.fakes.upstream import raw, status
from tests.faults.conftest import BODY, breaker_of, failover


def runtime_of(client: TestClient[Any, Any]) -> Runtime:
    """The gateway's live runtime."""
    return runtime(client.app)


async def until(condition: Any) -> None:
    """Wait (up to 10 s) for `condition()`."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


async def test_checks_run_on_their_interval_with_the_known_question(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """The background loop asks the provider to rank "apple" and "car" for "apple", with the route's model."""
    primary, url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": url, "health_check": {"interval": 0.02}}))
    await until(lambda: primary.calls >= 2)
    assert primary.received[0]["query"] == "apple"
    assert primary.received[0]["documents"] == ["apple", "car"]
    assert primary.received[0]["model"] == "p-model"
    data = await (await client.get("/admin/providers")).json()
    assert data["providers"][0]["health_check"] == {"interval": 0.02, "last": "ok"}


async def test_failing_checks_open_the_breaker_without_user_traffic(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A provider that fails its checks is taken out before any user request meets it."""
    primary, url = await start_fake("cohere", default=status(500))
    _, backup_url = await start_fake("cohere")
    config = failover({"base_url": url, "health_check": {"interval": 0.02}}, backup_url)
    config["resilience"] = {"breaker": {"failures": 2}}
    client = await start_gateway(config)
    await until(lambda: primary.calls >= 2)
    assert (await breaker_of(client, "primary"))["state"] == "open"
    calls = primary.calls
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.headers["x-rerank-provider"] == "backup"
    assert primary.calls == calls


async def test_recovery_is_probed_by_the_check_not_by_users(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """After the cool-down, users still skip the provider; a passing check closes the breaker."""
    clock = FakeClock()
    primary, url = await start_fake("cohere")
    _, backup_url = await start_fake("cohere")
    config = failover({"base_url": url, "health_check": {"interval": 3600}}, backup_url)
    config["resilience"] = {"breaker": {"failures": 1, "cooldown": 10}}
    client = await start_gateway(config, clock=clock)
    primary.then(status(500))
    assert (await client.post("/v1/rerank", json=BODY)).headers["x-rerank-provider"] == "backup"
    clock.advance(10)
    assert (await client.post("/v1/rerank", json=BODY)).headers["x-rerank-provider"] == "backup"
    assert primary.calls == 1
    health = runtime_of(client).health
    assert health is not None
    assert await health.check("primary") == "ok"
    assert (await breaker_of(client, "primary"))["state"] == "closed"
    assert (await client.post("/v1/rerank", json=BODY)).headers["x-rerank-provider"] == "primary"


async def test_no_check_during_the_cooldown(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """While the breaker is open (a Retry-After, say), the check does not call the provider."""
    clock = FakeClock()
    primary, url = await start_fake("cohere", default=status(429, headers={"Retry-After": "60"}))
    client = await start_gateway(failover({"base_url": url, "health_check": {"interval": 3600}}), clock=clock)
    await client.post("/v1/rerank", json=BODY)
    health = runtime_of(client).health
    assert health is not None
    assert await health.check("primary") is None
    assert primary.calls == 1


async def test_a_wrong_answer_fails_the_check(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A provider that ranks "car" above "apple" for "apple" is not healthy, whatever its status."""
    wrong = raw(b'{"results": [{"index": 1, "relevance_score": 0.9}, {"index": 0, "relevance_score": 0.1}]}')
    _, url = await start_fake("cohere", default=wrong)
    client = await start_gateway(failover({"base_url": url, "health_check": {"interval": 3600}}))
    health = runtime_of(client).health
    assert health is not None
    result = await health.check("primary")
    assert result is not None
    assert "exact match" in result
    assert (await breaker_of(client, "primary"))["consecutive_failures"] == 1
