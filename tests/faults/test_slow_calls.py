"""Fault: a provider that hangs but is stopped by the request (its deadline, a won hedge) before its own timeout."""

from __future__ import annotations

from tests.conftest import StartFake, StartGateway
from tests.fakes.upstream import hang, ok
from tests.faults.conftest import BODY, breaker_of, failover, outcomes


async def test_a_primary_hanging_past_the_model_deadline_opens_its_breaker(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """Cut by the model's 0.3 s deadline three times, the hanging primary is skipped: the backup answers."""
    primary, primary_url = await start_fake("cohere", default=hang())
    backup, backup_url = await start_fake("cohere")
    config = failover({"base_url": primary_url, "timeout": 30}, backup_url, timeout=0.3)
    config["resilience"] = {"breaker": {"failures": 3}}
    client = await start_gateway(config)
    statuses = [(await client.post("/v1/rerank", json=BODY)).status for _ in range(5)]
    assert statuses == [504, 504, 504, 200, 200]
    assert (primary.calls, backup.calls) == (3, 2)
    assert (await breaker_of(client, "primary"))["state"] == "open"


async def test_a_primary_that_keeps_losing_hedges_opens_its_breaker(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A hanging primary that the hedge beats every time is soon skipped, so requests stop paying the delay."""
    primary, primary_url = await start_fake("cohere", default=hang())
    _, backup_url = await start_fake("cohere", default=ok(delay=0.05))
    config = failover({"base_url": primary_url, "timeout": 30}, backup_url, hedge={"delay": 0.05})
    config["resilience"] = {"breaker": {"failures": 3}}
    client = await start_gateway(config)
    for _ in range(5):
        resp = await client.post("/v1/rerank", json=BODY)
        assert resp.status == 200
        assert resp.headers["x-rerank-provider"] == "backup"
    assert primary.calls == 3
    assert (await breaker_of(client, "primary"))["state"] == "open"


async def test_a_hedge_that_loses_quickly_is_no_verdict(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """The hedged backup, cancelled soon after it started because the primary answered, is not held against it."""
    _, primary_url = await start_fake("cohere", default=ok(delay=0.28))
    backup, backup_url = await start_fake("cohere", default=hang())
    config = failover({"base_url": primary_url, "timeout": 30}, backup_url, hedge={"delay": 0.2})
    config["resilience"] = {"breaker": {"failures": 1}}
    client = await start_gateway(config)
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.headers["x-rerank-provider"] == "primary"
    assert backup.calls == 1
    assert (await breaker_of(client, "backup"))["consecutive_failures"] == 0


async def test_slow_call_sets_when_a_try_cut_by_the_client_deadline_counts(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """With `slow_call: 0.05`, a try the client's 0.2 s deadline cut is slow: the breaker opens."""
    primary, primary_url = await start_fake("cohere", default=ok(delay=0.5))
    config = failover({"base_url": primary_url, "timeout": 30}, timeout=30)
    config["resilience"] = {"breaker": {"failures": 1, "slow_call": 0.05}}
    client = await start_gateway(config)
    resp = await client.post("/v1/rerank", json=BODY, headers={"x-request-timeout": "0.2"})
    assert resp.status == 504
    resp = await client.post("/v1/rerank", json=BODY, headers={"x-request-timeout": "0.2"})
    assert resp.status == 503
    assert outcomes(await resp.json()) == ["breaker_open"]
    assert primary.calls == 1
