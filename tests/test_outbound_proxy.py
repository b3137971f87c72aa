"""Outbound proxies: HTTP(S)_PROXY and NO_PROXY are honoured only when the config asks for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import StartFake, StartGateway
from tests.fakes.proxy import ForwardProxy
from tests.faults.conftest import BODY, failover


@pytest.fixture
async def proxy(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ForwardProxy]:
    """A forward proxy named in HTTP_PROXY, with no NO_PROXY set."""
    fwd = ForwardProxy()
    url = await fwd.start()
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", url)
    yield fwd
    await fwd.close()


async def test_trust_env_sends_calls_through_the_proxy(
    proxy: ForwardProxy, start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """With trust_env on the provider, the call goes through HTTP_PROXY and still answers."""
    fake, url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": url, "trust_env": True}))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert proxy.seen == [f"{url}/v1/rerank"]
    assert fake.calls == 1


async def test_the_environment_is_ignored_by_default(
    proxy: ForwardProxy, start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """Without trust_env, HTTP_PROXY in the environment changes nothing."""
    fake, url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": url}))
    assert (await client.post("/v1/rerank", json=BODY)).status == 200
    assert proxy.seen == []
    assert fake.calls == 1


async def test_global_trust_env_and_no_proxy(
    proxy: ForwardProxy, start_fake: StartFake, start_gateway: StartGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """resilience.trust_env applies to every provider, and NO_PROXY exempts the hosts it names."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    _fake, url = await start_fake("cohere")
    config = failover({"base_url": url})
    config["resilience"] = {"trust_env": True}
    client = await start_gateway(config)
    assert (await client.post("/v1/rerank", json=BODY)).status == 200
    assert proxy.seen == []
    monkeypatch.delenv("NO_PROXY")
    assert (await client.post("/v1/rerank", json=BODY)).status == 200
    assert proxy.seen == [f"{url}/v1/rerank"]


async def test_trust_env_without_a_proxy_uses_the_gateway_client(
    start_fake: StartFake, start_gateway: StartGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With trust_env on but no proxy named in the environment, calls go direct on the gateway's own client."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    fake, url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": url, "trust_env": True}))
    assert (await client.post("/v1/rerank", json=BODY)).status == 200
    assert fake.headers_seen[0]["User-Agent"].startswith("rerank-gateway/")
