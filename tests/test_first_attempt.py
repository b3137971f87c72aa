"""The first try at a provider runs outside tenacity; what follows a failed first try is unchanged."""

from __future__ import annotations

from tests.conftest import SEED, StartFake, StartGateway, model
from tests.fakes.clock import FakeClock
from tests.fakes.upstream import ok, status


def _config(base_url: str, *, max_retries: int) -> dict[str, object]:
    provider = {"type": "cohere", "base_url": base_url, "api_key": "k", "max_retries": max_retries}
    return {"providers": {"up": provider}, "models": {"m": model(("up", "rerank-x"))}}


async def test_success_first_time_needs_one_call_and_no_wait(
    start_fake: StartFake, start_gateway: StartGateway, sleeps: list[float]
) -> None:
    """A provider that answers at once is called once and nothing waits."""
    fake, url = await start_fake("cohere")
    client = await start_gateway(_config(url, max_retries=2))
    resp = await client.post("/v1/rerank", json=SEED)
    assert resp.status == 200
    assert fake.calls == 1
    assert sleeps == []
    assert resp.headers["x-rerank-attempts"] == "1"


async def test_retryable_first_failure_is_retried_after_a_backoff(
    start_fake: StartFake, start_gateway: StartGateway, sleeps: list[float]
) -> None:
    """A 503 on the first try is retried on the same provider after one backoff wait."""
    fake, url = await start_fake("cohere")
    fake.then(status(503), ok())
    client = await start_gateway(_config(url, max_retries=2))
    resp = await client.post("/v1/rerank", json=SEED)
    assert resp.status == 200
    assert fake.calls == 2
    assert len(sleeps) == 1
    assert resp.headers["x-rerank-attempts"] == "2"


async def test_retry_after_on_the_first_failure_sets_the_wait(
    start_fake: StartFake, start_gateway: StartGateway, sleeps: list[float]
) -> None:
    """A 429 with Retry-After on the first try makes the retry wait that long."""
    fake, url = await start_fake("cohere")
    fake.then(status(429, headers={"Retry-After": "2"}), ok())
    # The 429 opens the breaker for 2 s: on the injected clock the wait really passes them.
    client = await start_gateway(_config(url, max_retries=1), clock=FakeClock())
    resp = await client.post("/v1/rerank", json=SEED)
    assert resp.status == 200
    assert sleeps == [2.0]


async def test_non_retryable_first_failure_is_not_retried(
    start_fake: StartFake, start_gateway: StartGateway, sleeps: list[float]
) -> None:
    """A 401 on the first try is not retried on the same provider."""
    fake, url = await start_fake("cohere")
    fake.then(status(401))
    client = await start_gateway(_config(url, max_retries=2))
    resp = await client.post("/v1/rerank", json=SEED)
    assert resp.status == 502
    assert fake.calls == 1
    assert sleeps == []


async def test_retries_stop_at_max_retries(
    start_fake: StartFake, start_gateway: StartGateway, sleeps: list[float]
) -> None:
    """A provider failing every try is called 1 + max_retries times, with a wait before each retry."""
    fake, url = await start_fake("cohere", default=status(503))
    client = await start_gateway(_config(url, max_retries=2))
    resp = await client.post("/v1/rerank", json=SEED)
    assert resp.status in (502, 503)
    assert fake.calls == 3
    assert len(sleeps) == 2
