"""Fault: the primary rejects the gateway's credentials (401) or its permissions (403)."""

from __future__ import annotations

import pytest

from tests.conftest import StartFake, StartGateway
from tests.fakes.upstream import status
from tests.faults.conftest import BODY, failover, outcomes


@pytest.mark.parametrize("code", [401, 403])
async def test_credential_error_fails_over_without_retry(
    code: int, start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A credential error belongs to the provider account: no retry, straight to the backup."""
    primary, primary_url = await start_fake("cohere", default=status(code))
    backup, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url, "max_retries": 2}, backup_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "backup"
    assert (primary.calls, backup.calls) == (1, 1)


@pytest.mark.parametrize("code", [401, 403])
async def test_credential_error_is_never_blamed_on_the_client(
    code: int, start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """Alone, the client sees a 502 (not a 401/403 of its own) and the upstream status in the attempts."""
    _, primary_url = await start_fake("cohere", default=status(code))
    client = await start_gateway(failover({"base_url": primary_url, "max_retries": 2}))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 502
    data = await resp.json()
    assert outcomes(data) == [f"http_{code}"]
    assert data["attempts"][0]["status"] == code


async def test_credential_errors_open_the_breaker(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Repeated 401s count as provider failures, so the breaker opens and the bad key stops being sent."""
    primary, primary_url = await start_fake("cohere", default=status(401))
    _, backup_url = await start_fake("cohere")
    config = failover({"base_url": primary_url}, backup_url)
    config["resilience"] = {"breaker": {"failures": 2}}
    client = await start_gateway(config)
    for _ in range(4):
        assert (await client.post("/v1/rerank", json=BODY)).status == 200
    assert primary.calls == 2
