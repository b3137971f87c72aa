"""Redis failure: killed, hung or absent, Redis never fails a request; the gateway goes back when it can."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from gateway.state import Counters
from gateway.web.keys import STATE
from tests.conftest import StartFake, StartGateway, model
from tests.procs import RedisServer, eventually, free_port

LOST = "redis unavailable: serving on local state until it is back"


def config(upstream: str, redis_url: str) -> dict[str, Any]:
    """Cache, quotas and cool-downs all in Redis, with short timeouts and a fast re-check."""
    redis = {"url": redis_url, "timeout": 0.2, "connect_timeout": 0.2, "recheck_interval": 0.1}
    return {
        "providers": {"p": {"type": "cohere", "base_url": upstream, "max_retries": 0}},
        "models": {"m": model(("p", "x"))},
        "auth": {"api_keys": [{"name": "a", "key": "ka", "rpm": 100_000, "dpm": 10_000_000}]},
        "state": {"backend": "redis", "redis": redis},
    }


class Load:
    """A few clients sending overlapping requests until stopped; every status is kept."""

    def __init__(self, client: Any, workers: int = 4) -> None:
        self.client = client
        self.statuses: list[int] = []
        self.stopped = asyncio.Event()
        self.tasks = [asyncio.create_task(self._worker(w)) for w in range(workers)]

    async def _worker(self, w: int) -> None:
        i = 0
        while not self.stopped.is_set():
            docs = [f"doc {(w * 7 + i + k) % 40}" for k in range(8)]
            body = {"model": "m", "query": "q", "documents": docs}
            resp = await self.client.post("/v1/rerank", json=body, headers={"Authorization": "Bearer ka"})
            self.statuses.append(resp.status)
            await resp.read()
            i += 1

    async def until(self, count: int) -> None:
        """Wait until `count` more requests have finished."""
        target = len(self.statuses) + count
        await eventually(self._reached(target), what=f"{count} more requests")

    def _reached(self, target: int) -> Any:
        async def check() -> bool:
            return len(self.statuses) >= target

        return check

    async def stop(self) -> list[int]:
        self.stopped.set()
        await asyncio.gather(*self.tasks)
        return self.statuses


def lost_lines(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for r in caplog.records if r.name == "gateway.state" and r.getMessage() == LOST)


async def counter(counters: Counters, name: str, value: int) -> None:
    async def check() -> bool:
        return bool(counters.snapshot()[name] == value)

    await eventually(check, what=f"{name} == {value}")


async def test_redis_killed_and_restarted_mid_run_fails_no_request(
    start_fake: StartFake, start_gateway: StartGateway, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Under load, Redis is SIGKILLed and later restarted: every request succeeds, one log line, one fallback."""
    _, url = await start_fake("cohere")
    client = await start_gateway(config(url, redis_server.url))
    counters = client.app[STATE].counters
    assert counters.redis_up == 1
    load = Load(client)
    await load.until(40)
    redis_server.kill()
    await counter(counters, "redis_up", 0)
    await load.until(40)
    redis_server.start()
    await counter(counters, "redis_up", 1)
    errors = counters.redis_errors
    await load.until(40)
    statuses = await load.stop()
    assert set(statuses) == {200}
    assert counters.redis_fallbacks == 1
    assert counters.redis_errors == errors  # back on Redis for good, not flapping
    assert lost_lines(caplog) == 1
    health = client.app[STATE].health
    assert health is not None
    assert await health.link.client.dbsize() > 0  # the requests after the restart wrote to Redis again


async def test_hung_redis_is_timed_out_and_never_fails_a_request(
    start_fake: StartFake, start_gateway: StartGateway, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis stopped with SIGSTOP (it accepts but never answers): requests still succeed, then it comes back."""
    _, url = await start_fake("cohere")
    client = await start_gateway(config(url, redis_server.url))
    counters = client.app[STATE].counters
    load = Load(client)
    await load.until(20)
    redis_server.pause()
    try:
        await counter(counters, "redis_up", 0)
        await load.until(30)
    finally:
        redis_server.resume()
    await counter(counters, "redis_up", 1)
    await load.until(20)
    assert set(await load.stop()) == {200}
    assert counters.redis_fallbacks == 1
    assert lost_lines(caplog) == 1


async def test_gateway_starts_without_redis_and_picks_it_up_later(
    start_fake: StartFake, start_gateway: StartGateway, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """With Redis absent at start-up the gateway serves on local state, and uses Redis once it appears."""
    caplog.set_level(logging.INFO, logger="gateway.state")
    _, url = await start_fake("cohere")
    redis = RedisServer(tmp_path, port=free_port())
    client = await start_gateway(config(url, redis.url))
    counters = client.app[STATE].counters
    assert counters.redis_up == 0
    load = Load(client)
    await load.until(20)
    redis.start()
    try:
        await counter(counters, "redis_up", 1)
        await load.until(20)
        assert set(await load.stop()) == {200}
        health = client.app[STATE].health
        assert health is not None
        assert await health.link.client.dbsize() > 0
    finally:
        redis.stop()
    assert lost_lines(caplog) == 1
    assert any(r.getMessage() == "redis reachable again: shared state in use" for r in caplog.records)
