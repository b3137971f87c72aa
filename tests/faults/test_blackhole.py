"""Fault: the primary's host black-holes TCP connects (a listener with a full accept queue)."""

from __future__ import annotations

from tests.conftest import StartFake, StartGateway
from tests.faults.conftest import BODY, failover, outcomes


async def test_blackholed_primary_fails_over_after_the_connect_timeout(
    start_fake: StartFake, start_gateway: StartGateway, blackhole: str
) -> None:
    """The connect timeout, not the 60 s read timeout, ends the try: the backup answers within the deadline."""
    backup, backup_url = await start_fake("cohere")
    primary = {"base_url": blackhole, "timeout": 60, "connect_timeout": 0.2, "max_retries": 2}
    client = await start_gateway(failover(primary, backup_url, timeout=20))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "backup"
    assert backup.calls == 1


async def test_blackholed_alone_reports_a_connect_timeout(start_gateway: StartGateway, blackhole: str) -> None:
    """Alone, the black hole gives a 502 whose single attempt is a connect timeout (not retried)."""
    primary = {"base_url": blackhole, "timeout": 60, "connect_timeout": 0.2, "max_retries": 2}
    client = await start_gateway(failover(primary, timeout=20))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 502
    assert outcomes(await resp.json()) == ["connect_timeout"]
