"""Fault: the primary refuses connections (nothing listens on its port)."""

from __future__ import annotations

from tests.conftest import StartFake, StartGateway
from tests.faults.conftest import BODY, failover, outcomes


async def test_refused_primary_fails_over_at_once(
    start_fake: StartFake, start_gateway: StartGateway, dead_url: str, sleeps: list[float]
) -> None:
    """A refused connection is not retried nor waited on: the backup answers after one try at the primary."""
    backup, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": dead_url, "max_retries": 2}, backup_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "backup"
    assert resp.headers["x-rerank-attempts"] == "2"
    assert sleeps == []
    assert backup.calls == 1


async def test_refused_alone_is_a_502_naming_the_cause(start_gateway: StartGateway, dead_url: str) -> None:
    """With no other provider, the client gets a 502 whose attempt list says the connection failed."""
    client = await start_gateway(failover({"base_url": dead_url, "max_retries": 2}))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 502
    assert outcomes(await resp.json()) == ["connect_error"]
