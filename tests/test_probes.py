"""Probes: /healthz says the process serves, /readyz that it takes traffic; neither depends on providers."""

from __future__ import annotations

from tests.conftest import StartGateway, model


async def test_probes_answer_while_every_provider_is_down(start_gateway: StartGateway, dead_url: str) -> None:
    """With the only provider refusing connections, liveness and readiness still say 200, without a key."""
    client = await start_gateway(
        {
            "auth": {"api_keys": [{"name": "a", "key": "k"}]},
            "providers": {"down": {"type": "cohere", "base_url": dead_url}},
            "models": {"m": model(("down", "x"))},
        }
    )
    health = await client.get("/healthz")
    assert (health.status, await health.json()) == (200, {"status": "ok"})
    ready = await client.get("/readyz")
    assert (ready.status, await ready.json()) == (200, {"status": "ready"})
