"""Fault: the primary answers 429 with a Retry-After in every form: seconds, HTTP date, huge, garbage."""

from __future__ import annotations

import time
from email.utils import formatdate

from tests.conftest import StartFake, StartGateway
from tests.fakes.clock import FakeClock
from tests.fakes.upstream import Behaviour, ok, status
from tests.faults.conftest import BODY, breaker_of, failover, outcomes


def limited(value: str) -> Behaviour:
    """A 429 with this Retry-After header."""
    return status(429, headers={"Retry-After": value})


async def test_seconds_within_the_deadline_are_waited(
    start_fake: StartFake, start_gateway: StartGateway, sleeps: list[float]
) -> None:
    """Retry-After: 2 fits a 30 s deadline: the gateway waits exactly 2 s, then the same provider answers."""
    primary, url = await start_fake("cohere")
    primary.then(limited("2"), ok())
    client = await start_gateway(failover({"base_url": url, "max_retries": 1}), clock=FakeClock())
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert sleeps == [2.0]
    assert primary.calls == 2


async def test_http_date_is_read(start_fake: StartFake, start_gateway: StartGateway, sleeps: list[float]) -> None:
    """Retry-After as an HTTP date two seconds ahead becomes a wait of at most two seconds."""
    primary, url = await start_fake("cohere")
    primary.then(limited(formatdate(time.time() + 2, usegmt=True)), ok())
    client = await start_gateway(failover({"base_url": url, "max_retries": 1}), clock=FakeClock())
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert len(sleeps) == 1
    assert 0 < sleeps[0] <= 2


async def test_wait_past_the_deadline_fails_over_at_once(
    start_fake: StartFake, start_gateway: StartGateway, sleeps: list[float]
) -> None:
    """A Retry-After longer than the time left is never waited: the backup answers straight away."""
    primary, url = await start_fake("cohere", default=limited("20"))
    backup, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": url, "max_retries": 2}, backup_url, timeout=5))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "backup"
    assert sleeps == []
    assert (primary.calls, backup.calls) == (1, 1)


async def test_huge_value_opens_the_breaker_for_at_most_max_open(
    start_fake: StartFake, start_gateway: StartGateway, sleeps: list[float]
) -> None:
    """Retry-After: 99999999 opens the breaker, capped by max_open; later requests skip the primary."""
    primary, url = await start_fake("cohere", default=limited("99999999"))
    backup, backup_url = await start_fake("cohere")
    config = failover({"base_url": url, "max_retries": 2}, backup_url)
    config["resilience"] = {"breaker": {"max_open": 120}}
    client = await start_gateway(config)
    for _ in range(3):
        resp = await client.post("/v1/rerank", json=BODY)
        assert resp.status == 200
    assert sleeps == []
    assert (primary.calls, backup.calls) == (1, 3)
    breaker = await breaker_of(client, "primary")
    assert breaker["state"] == "open"
    assert 100 < breaker["open_for_seconds"] <= 120


async def test_huge_value_alone_is_passed_on_capped(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Alone, the client gets 503 with a Retry-After of its own, capped to a sane number of seconds."""
    _, url = await start_fake("cohere", default=limited("99999999"))
    client = await start_gateway(failover({"base_url": url}))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 503
    assert outcomes(await resp.json()) == ["http_429"]
    assert 1 <= int(resp.headers["Retry-After"]) <= 300
    again = await client.post("/v1/rerank", json=BODY)
    assert again.status == 503
    assert outcomes(await again.json()) == ["breaker_open"]
    assert 1 <= int(again.headers["Retry-After"]) <= 300


async def test_garbage_value_falls_back_to_backoff(
    start_fake: StartFake, start_gateway: StartGateway, sleeps: list[float]
) -> None:
    """An unreadable Retry-After is ignored: the usual jittered backoff is used, then the retry answers."""
    primary, url = await start_fake("cohere")
    primary.then(limited("soon, maybe"), ok())
    client = await start_gateway(failover({"base_url": url, "max_retries": 1}))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 0.1
