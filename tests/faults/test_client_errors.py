"""Fault: the primary rejects the request itself (400, 413, 422)."""

from __future__ import annotations

import pytest

from tests.conftest import StartFake, StartGateway
from tests.fakes.upstream import status
from tests.faults.conftest import BODY, breaker_of, failover, outcomes


@pytest.mark.parametrize("code", [400, 413, 422])
async def test_request_rejection_fails_over_without_retry(
    code: int, start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """The gateway validated the request already, so an upstream 4xx is provider-specific: next provider, no retry."""
    primary, primary_url = await start_fake("cohere", default=status(code))
    backup, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url, "max_retries": 2}, backup_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "backup"
    assert (primary.calls, backup.calls) == (1, 1)


@pytest.mark.parametrize("code", [400, 413, 422])
async def test_request_rejection_does_not_count_against_the_provider(
    code: int, start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A rejected request says nothing about the provider's health: its breaker stays closed."""
    primary, primary_url = await start_fake("cohere", default=status(code))
    config = failover({"base_url": primary_url})
    config["resilience"] = {"breaker": {"failures": 1}}
    client = await start_gateway(config)
    for _ in range(3):
        resp = await client.post("/v1/rerank", json=BODY)
        assert resp.status == 502
        assert outcomes(await resp.json()) == [f"http_{code}"]
    assert primary.calls == 3
    assert (await breaker_of(client, "primary"))["state"] == "closed"
