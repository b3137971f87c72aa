"""Weighted tiers configured in YAML, end to end over loopback."""

from __future__ import annotations

from tests.conftest import StartFake, StartGateway
from tests.faults.conftest import BODY


async def test_weights_spread_traffic_within_a_tier(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Two providers sharing priority 0 with weights 3:1 share the traffic about 3:1; the tier below gets none."""
    fakes = {}
    providers = {}
    for name in ("heavy", "light", "spare"):
        fakes[name], url = await start_fake("cohere")
        providers[name] = {"type": "cohere", "base_url": url}
    routes = [
        {"provider": "heavy", "model": "x", "priority": 0, "weight": 3},
        {"provider": "light", "model": "x", "priority": 0, "weight": 1},
        {"provider": "spare", "model": "x", "priority": 1},
    ]
    # The same body 400 times must reach the upstreams each time: no score cache.
    config = {"providers": providers, "models": {"m": {"providers": routes}}, "cache": {"enabled": False}}
    client = await start_gateway(config)
    for _ in range(400):
        assert (await client.post("/v1/rerank", json=BODY)).status == 200
    assert fakes["heavy"].calls + fakes["light"].calls == 400
    assert 0.6 < fakes["heavy"].calls / 400 < 0.9
    assert fakes["spare"].calls == 0
