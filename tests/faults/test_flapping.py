"""Fault: a provider that fails, recovers, fails again: the breaker's timeline on an injected clock."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from tests.conftest import StartFake, StartGateway
from tests.fakes.clock import FakeClock
from tests.fakes.upstream import ok, status
from tests.faults.conftest import BODY, breaker_of, failover


def flapping_config(primary_url: str, backup_url: str) -> dict[str, Any]:
    """Primary then backup, no retries; the breaker opens after 2 failures and cools down for 10 s."""
    config = failover({"base_url": primary_url}, backup_url)
    config["resilience"] = {"breaker": {"failures": 2, "cooldown": 10}}
    return config


async def test_breaker_timeline(
    start_fake: StartFake, start_gateway: StartGateway, caplog: pytest.LogCaptureFixture
) -> None:
    """Open after 2 failures, skip while open, probe after the cool-down, reopen on a bad probe, close on a good one."""
    caplog.set_level(logging.INFO, logger="gateway.breaker")
    clock = FakeClock()
    primary, primary_url = await start_fake("cohere")
    _, backup_url = await start_fake("cohere")
    client = await start_gateway(flapping_config(primary_url, backup_url), clock=clock)

    async def served_by() -> str:
        resp = await client.post("/v1/rerank", json=BODY)
        assert resp.status == 200
        return str(resp.headers["x-rerank-provider"])

    primary.then(status(500), status(500))
    assert [await served_by(), await served_by()] == ["backup", "backup"]
    assert (await breaker_of(client, "primary"))["state"] == "open"
    assert [await served_by(), await served_by()] == ["backup", "backup"]
    assert primary.calls == 2  # skipped while open: no attempt at all

    clock.advance(9.9)
    assert await served_by() == "backup"
    assert primary.calls == 2
    clock.advance(0.1)
    primary.then(status(503))  # the probe fails: open again for a full cool-down
    assert await served_by() == "backup"
    assert primary.calls == 3
    assert (await breaker_of(client, "primary"))["state"] == "open"

    clock.advance(10)
    assert await served_by() == "primary"  # the probe succeeds: closed
    assert (await breaker_of(client, "primary"))["state"] == "closed"
    assert await served_by() == "primary"

    changes = [(r.previous, r.state) for r in caplog.records if r.name == "gateway.breaker"]  # type: ignore[attr-defined]
    assert changes == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


async def test_half_open_lets_exactly_one_probe_through(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """While the probe is in flight, every other request skips the provider."""
    clock = FakeClock()
    primary, primary_url = await start_fake("cohere")
    _backup, backup_url = await start_fake("cohere")
    client = await start_gateway(flapping_config(primary_url, backup_url), clock=clock)
    primary.then(status(500), status(500), ok(delay=0.3))
    for _ in range(2):
        await client.post("/v1/rerank", json=BODY)
    clock.advance(10)
    answers = await asyncio.gather(*(client.post("/v1/rerank", json=BODY) for _ in range(8)))
    providers = sorted(r.headers["x-rerank-provider"] for r in answers)
    assert providers == ["backup"] * 7 + ["primary"]
    assert primary.calls == 3
    assert (await breaker_of(client, "primary"))["state"] == "closed"


async def test_failure_rate_over_the_window_opens(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Alternating failures never make 3 in a row, but a 50% rate over 10 calls opens the breaker."""
    primary, primary_url = await start_fake("cohere")
    _, backup_url = await start_fake("cohere")
    config = failover({"base_url": primary_url}, backup_url)
    config["resilience"] = {"breaker": {"failures": 3, "failure_rate": 0.5, "min_calls": 10, "window": 60}}
    client = await start_gateway(config, clock=FakeClock())
    for _ in range(5):
        primary.then(ok(), status(500))
    for _ in range(10):
        await client.post("/v1/rerank", json=BODY)
    assert (await breaker_of(client, "primary"))["state"] == "open"
    await client.post("/v1/rerank", json=BODY)
    assert primary.calls == 10
