"""GET /admin/providers: each provider's type, whether it is enabled, its breaker; behind the admin key."""

from __future__ import annotations

from typing import Any

from tests.conftest import StartFake, StartGateway, model
from tests.fakes.upstream import status

KEYS = {"api_keys": [{"name": "team", "key": "user-key"}], "admin_key": "admin-key"}


def config(url: str, **auth: Any) -> dict[str, Any]:
    """A cohere provider at `url`, a disabled one, and a local one."""
    return {
        "providers": {
            "remote": {"type": "cohere", "base_url": url, "max_retries": 0},
            "off": {"type": "jina", "base_url": url, "api_key": "${UNSET_KEY}"},
            "local": {"type": "local"},
        },
        "models": {"m": model(("remote", "x"), ("local", "bm25"))},
        **auth,
    }


async def test_lists_every_provider_with_its_breaker(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Enabled providers show their breaker; a disabled one says why, and has no breaker."""
    _, url = await start_fake("cohere", default=status(500))
    client = await start_gateway(config(url))
    await client.post("/v1/rerank", json={"model": "m", "query": "q", "documents": ["a"]})
    data = await (await client.get("/admin/providers")).json()
    rows = {p["name"]: p for p in data["providers"]}
    assert rows["remote"]["type"] == "cohere"
    assert rows["remote"]["enabled"] is True
    assert rows["remote"]["breaker"]["state"] == "closed"
    assert rows["remote"]["breaker"]["consecutive_failures"] == 1
    assert rows["off"]["enabled"] is False
    assert "UNSET_KEY" in rows["off"]["disabled_reason"]
    assert "breaker" not in rows["off"]
    assert rows["local"]["breaker"]["state"] == "closed"


async def test_needs_the_admin_key_when_auth_is_on(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A user key or no key gets 401; the admin key gets the list."""
    _, url = await start_fake("cohere")
    client = await start_gateway(config(url, auth=KEYS))
    assert (await client.get("/admin/providers")).status == 401
    user = await client.get("/admin/providers", headers={"Authorization": "Bearer user-key"})
    assert user.status == 401
    admin = await client.get("/admin/providers", headers={"Authorization": "Bearer admin-key"})
    assert admin.status == 200
    assert len((await admin.json())["providers"]) == 3


async def test_closed_when_auth_is_on_without_an_admin_key(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """With auth but no admin_key, the admin endpoints answer 403 even to a valid user key."""
    _, url = await start_fake("cohere")
    client = await start_gateway(config(url, auth={"api_keys": KEYS["api_keys"]}))
    resp = await client.get("/admin/providers", headers={"Authorization": "Bearer user-key"})
    assert resp.status == 403
    assert "admin_key" in (await resp.json())["message"]


async def test_the_admin_key_is_not_leaked(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Neither the admin key nor a provider key appears in the listing."""
    _, url = await start_fake("cohere")
    cfg = config(url, auth=KEYS)
    cfg["providers"]["remote"]["api_key"] = "provider-secret"
    client = await start_gateway(cfg)
    admin = await client.get("/admin/providers", headers={"Authorization": "Bearer admin-key"})
    text = await admin.text()
    assert "provider-secret" not in text
    assert "admin-key" not in text
