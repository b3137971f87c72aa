"""Fault: the request's deadline runs out; retries, waits and failover all share it."""

from __future__ import annotations

from tests.conftest import StartFake, StartGateway
from tests.fakes.upstream import hang, ok, status
from tests.faults.conftest import BODY, breaker_of, failover, outcomes


async def test_model_deadline_ends_the_request_with_a_504(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A hanging primary with a long timeout is cut by the model's deadline; the backup is not started late."""
    _, primary_url = await start_fake("cohere", default=hang())
    backup, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url, "timeout": 30}, backup_url, timeout=0.3))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 504
    data = await resp.json()
    assert data["type"] == "deadline_exceeded"
    assert outcomes(data) == ["timeout"]
    assert backup.calls == 0


async def test_client_deadline_header_is_used(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """x-request-timeout shortens the deadline below the model's."""
    _, primary_url = await start_fake("cohere", default=hang())
    client = await start_gateway(failover({"base_url": primary_url, "timeout": 30}, timeout=30))
    resp = await client.post("/v1/rerank", json=BODY, headers={"x-request-timeout": "0.2"})
    assert resp.status == 504


async def test_client_deadline_is_capped_by_config(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A client asking for 100 s gets no more than resilience.max_request_timeout."""
    _, primary_url = await start_fake("cohere", default=hang())
    config = failover({"base_url": primary_url, "timeout": 30}, timeout=30)
    config["resilience"] = {"max_request_timeout": 0.2}
    client = await start_gateway(config)
    resp = await client.post("/v1/rerank", json=BODY, headers={"x-request-timeout": "100"})
    assert resp.status == 504


async def test_bad_deadline_header_is_a_400(start_gateway: StartGateway, dead_url: str) -> None:
    """A deadline header that is not a positive number is the client's mistake, named in a 400."""
    client = await start_gateway(failover({"base_url": dead_url}))
    for value in ("soon", "-1", "0", "nan", "inf"):
        resp = await client.post("/v1/rerank", json=BODY, headers={"x-request-timeout": value})
        assert resp.status == 400
        assert (await resp.json())["field"] == "x-request-timeout"


async def test_no_wait_runs_past_the_deadline(
    start_fake: StartFake, start_gateway: StartGateway, sleeps: list[float]
) -> None:
    """A 503 asking for 5 s with 1 s left is not waited for: the client hears at once, with the hint."""
    primary, primary_url = await start_fake("cohere", default=status(503, headers={"Retry-After": "5"}))
    client = await start_gateway(failover({"base_url": primary_url, "max_retries": 3}, timeout=1))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 503
    assert resp.headers["Retry-After"] == "5"
    assert sleeps == []
    assert primary.calls == 1


async def test_a_tight_client_deadline_does_not_trip_the_breaker(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """Timeouts caused by the client's own short deadline are not held against a slow but healthy provider."""
    primary, primary_url = await start_fake("cohere", default=ok(delay=0.5))
    config = failover({"base_url": primary_url, "timeout": 30}, timeout=30)
    config["resilience"] = {"breaker": {"failures": 1}}
    client = await start_gateway(config)
    for _ in range(2):
        resp = await client.post("/v1/rerank", json=BODY, headers={"x-request-timeout": "0.1"})
        assert resp.status == 504
    assert primary.calls == 2
    assert (await breaker_of(client, "primary"))["state"] == "closed"


async def test_client_deadline_header_never_lengthens_the_model_deadline(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """Asking for 5 s on a model whose deadline is 0.2 s still ends at the model's deadline."""
    _, primary_url = await start_fake("cohere", default=ok(delay=0.5))
    client = await start_gateway(failover({"base_url": primary_url, "timeout": 30}, timeout=0.2))
    resp = await client.post("/v1/rerank", json=BODY, headers={"x-request-timeout": "5"})
    assert resp.status == 504
    assert outcomes(await resp.json()) == ["timeout"]


async def test_a_deadline_too_short_for_any_try_is_a_504(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A deadline that leaves no time to start a try is the deadline passing (504), not an outage (503)."""
    primary, primary_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url}))
    resp = await client.post("/v1/rerank", json=BODY, headers={"x-request-timeout": "0.01"})
    assert resp.status == 504
    data = await resp.json()
    assert data["type"] == "deadline_exceeded"
    assert outcomes(data) == []
    assert primary.calls == 0
