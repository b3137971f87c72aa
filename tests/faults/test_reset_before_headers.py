"""Fault: the primary closes the connection after reading the request, before any response byte."""

from __future__ import annotations

from tests.conftest import StartFake, StartGateway
from tests.fakes.upstream import ok, reset
from tests.faults.conftest import BODY, failover, outcomes


async def test_reset_is_retried_then_answered(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A reset is retryable: the second try at the same provider answers."""
    primary, primary_url = await start_fake("cohere")
    primary.then(reset(), ok())
    client = await start_gateway(failover({"base_url": primary_url, "max_retries": 1}))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-attempts"] == "2"
    assert primary.calls == 2


async def test_reset_every_time_fails_over(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A primary that always resets is given up on; alone it is a 502 naming the disconnects."""
    _, primary_url = await start_fake("cohere", default=reset())
    _backup, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url}, backup_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "backup"
    alone = await start_gateway(failover({"base_url": primary_url}))
    resp = await alone.post("/v1/rerank", json=BODY)
    assert resp.status == 502
    assert outcomes(await resp.json()) == ["disconnected"]
