"""Fault: the primary accepts the request and never answers."""

from __future__ import annotations

from tests.conftest import StartFake, StartGateway
from tests.fakes.upstream import hang
from tests.faults.conftest import BODY, failover, outcomes


async def test_silent_primary_times_out_and_fails_over(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """The provider timeout ends the try, the request goes to the backup, the primary's call is abandoned."""
    primary, primary_url = await start_fake("cohere", default=hang())
    _backup, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url, "timeout": 0.2}, backup_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "backup"
    assert primary.calls == 1


async def test_silent_primary_alone_reports_a_timeout(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Alone, each try times out; the retries are recorded and the client gets a 502 listing them."""
    _, primary_url = await start_fake("cohere", default=hang())
    client = await start_gateway(failover({"base_url": primary_url, "timeout": 0.1, "max_retries": 1}))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 502
    assert outcomes(await resp.json()) == ["timeout", "timeout"]
