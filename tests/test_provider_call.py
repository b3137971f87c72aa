"""What one HTTP provider call sends: headers set once per provider, timeouts per attempt."""

from __future__ import annotations

from tests.conftest import SEED, StartFake, StartGateway, model
from tests.fakes.upstream import hang


def _config(base_url: str, **provider: object) -> dict[str, object]:
    spec = {"type": "cohere", "base_url": base_url, "api_key": "sk-test", "max_retries": 0, **provider}
    # Every call must reach the upstream, so no score cache.
    return {"providers": {"up": spec}, "models": {"m": model(("up", "rerank-x"))}, "cache": {"enabled": False}}


async def test_every_call_carries_the_provider_headers(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Auth, JSON content type and configured extra headers reach the upstream on every call."""
    fake, url = await start_fake("cohere", api_key="sk-test")
    client = await start_gateway(_config(url, headers={"X-Team": "search"}))
    for _ in range(2):
        resp = await client.post("/v1/rerank", json=SEED)
        assert resp.status == 200
    assert fake.calls == 2
    for seen in fake.headers_seen:
        assert seen["Authorization"] == "Bearer sk-test"
        assert seen["Content-Type"] == "application/json"
        assert seen["X-Team"] == "search"
    assert fake.received[0]["documents"] == SEED["documents"]


async def test_a_client_deadline_shorter_than_the_provider_timeout_applies(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """With x-request-timeout below the provider's timeout, a hanging upstream ends in a 504, not a wait."""
    _fake, url = await start_fake("cohere", default=hang())
    client = await start_gateway(_config(url, timeout=30))
    resp = await client.post("/v1/rerank", json=SEED, headers={"x-request-timeout": "0.3"})
    assert resp.status == 504
    body = await resp.json()
    assert [a["outcome"] for a in body["attempts"]] == ["timeout"]
