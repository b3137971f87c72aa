"""Gateway API keys: required when configured, compared in constant time, never echoed."""

from __future__ import annotations

import asyncio

import orjson

from tests.conftest import StartGateway, model

CONFIG = {
    "auth": {"api_keys": [{"name": "team-a", "key": "${TEAM_A_KEY}"}, {"name": "team-b", "key": "literal-b"}]},
    "providers": {"local": {"type": "local"}},
    "models": {"m": model(("local", "bm25"))},
}
BODY = {"model": "m", "query": "q", "documents": ["q", "x"]}
ENV = {"TEAM_A_KEY": "key-a-123"}


async def test_missing_or_wrong_key_is_401_json(start_gateway: StartGateway) -> None:
    """No key, a wrong key or a wrong scheme each get 401 in JSON with WWW-Authenticate."""
    client = await start_gateway(CONFIG, env=ENV)
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic key-a-123"},
        {"Authorization": "Bearer "},
    ):
        resp = await client.post("/v1/rerank", json=BODY, headers=headers)
        assert resp.status == 401, headers
        data = await resp.json()
        assert data["type"] == "unauthorized"
        assert resp.headers["WWW-Authenticate"] == "Bearer"
        assert "key-a-123" not in await resp.text()


async def test_each_configured_key_is_accepted(start_gateway: StartGateway) -> None:
    """Both an expanded key and a literal key are accepted."""
    client = await start_gateway(CONFIG, env=ENV)
    for key in ("key-a-123", "literal-b"):
        resp = await client.post("/v1/rerank", json=BODY, headers={"Authorization": f"Bearer {key}"})
        assert resp.status == 200


async def test_models_listing_needs_a_key_but_probes_do_not(start_gateway: StartGateway) -> None:
    """/v1/models is behind auth; /healthz and /readyz are not."""
    client = await start_gateway(CONFIG, env=ENV)
    assert (await client.get("/v1/models")).status == 401
    assert (await client.get("/v1/models", headers={"Authorization": "Bearer literal-b"})).status == 200
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200


async def test_no_auth_section_means_open(start_gateway: StartGateway) -> None:
    """Without `auth`, calls need no key."""
    config = {k: v for k, v in CONFIG.items() if k != "auth"}
    client = await start_gateway(config)
    assert (await client.post("/v1/rerank", json=BODY)).status == 200


async def test_auth_with_every_key_unset_fails_closed(start_gateway: StartGateway) -> None:
    """If every configured key's variable is unset, nobody gets in (auth stays on)."""
    config = {**CONFIG, "auth": {"api_keys": [{"name": "a", "key": "${UNSET_KEY}"}]}}
    client = await start_gateway(config)
    resp = await client.post("/v1/rerank", json=BODY, headers={"Authorization": "Bearer "})
    assert resp.status == 401


async def raw_request(port: int, *, method: bytes, path: bytes, authorization: bytes) -> tuple[int, bytes]:
    """Send one request with an Authorization header of exactly these bytes; return the status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = orjson.dumps(BODY)
    writer.write(
        b"%s %s HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nAuthorization: %s\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (method, path, authorization, len(body), body)
    )
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, answer = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), answer


async def test_keys_that_are_not_utf8_get_401_not_500(start_gateway: StartGateway) -> None:
    """Header bytes that are not UTF-8 are a wrong key (401 JSON), on API and admin paths; a UTF-8 key still works."""
    config = {**CONFIG, "auth": {"api_keys": [{"name": "c", "key": "ключ-c"}], "admin_key": "admin-1"}}
    client = await start_gateway(config)
    port = client.server.port
    assert port is not None
    for method, path, authorization in (
        (b"POST", b"/v1/rerank", b"Bearer \xff\xfe"),
        (b"POST", b"/v1/rerank", "Bearer ключ-c".encode("cp1251")),
        (b"GET", b"/admin/providers", b"Bearer \xff"),
    ):
        status, answer = await raw_request(port, method=method, path=path, authorization=authorization)
        assert status == 401, (path, authorization)
        assert orjson.loads(answer)["type"] == "unauthorized"
    status, _ = await raw_request(port, method=b"POST", path=b"/v1/rerank", authorization="Bearer ключ-c".encode())
    assert status == 200
