"""Fault: the primary answers 500, 502, 503 or 504."""

from __future__ import annotations

import pytest

from tests.conftest import StartFake, StartGateway
from tests.fakes.upstream import status
from tests.faults.conftest import BODY, failover, outcomes


@pytest.mark.parametrize("code", [500, 502, 503, 504])
async def test_server_error_is_retried_then_fails_over(
    code: int, start_fake: StartFake, start_gateway: StartGateway, sleeps: list[float]
) -> None:
    """A 5xx is retried at the same provider with backoff (max_retries), then the backup answers."""
    primary, primary_url = await start_fake("cohere", default=status(code))
    backup, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url, "max_retries": 2}, backup_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "backup"
    assert (primary.calls, backup.calls) == (3, 1)
    assert len(sleeps) == 2
    assert all(0 <= s <= 2.0 for s in sleeps)


@pytest.mark.parametrize(("code", "client_status"), [(500, 502), (502, 502), (503, 503), (504, 502)])
async def test_server_error_alone_is_reported(
    code: int, client_status: int, start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """Alone, the client gets 502 (503 when the upstream said it is overloaded) with every attempt listed."""
    _, primary_url = await start_fake("cohere", default=status(code))
    client = await start_gateway(failover({"base_url": primary_url, "max_retries": 1}))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == client_status
    assert outcomes(await resp.json()) == [f"http_{code}"] * 2
