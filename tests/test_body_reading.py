"""Reading the client's body: capped at max_body_bytes with or without Content-Length, 413 naming `$`."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from tests.conftest import StartGateway, chunked, model

CAP = 2000


def config() -> dict[str, Any]:
    """The local ranker behind a small body cap."""
    return {
        "providers": {"local": {"type": "local"}},
        "models": {"m": model(("local", "bm25"))},
        "limits": {"max_body_bytes": CAP},
    }


async def test_over_the_cap_with_content_length_is_a_413_naming_the_body(start_gateway: StartGateway) -> None:
    """A body over the cap, with its length declared, is a JSON 413 whose field is `$`."""
    client = await start_gateway(config())
    resp = await client.post("/v1/rerank", json={"model": "m", "query": "q", "documents": ["a" * CAP]})
    assert resp.status == 413
    data = await resp.json()
    assert (data["type"], data["field"]) == ("payload_too_large", "$")


async def test_chunked_body_within_the_cap_is_served(start_gateway: StartGateway) -> None:
    """A chunked body (no Content-Length) is read whole and answered."""
    client = await start_gateway(config())
    body = orjson.dumps({"model": "m", "query": "apple", "documents": ["apple pie", "pear", "apple"] * 20})
    assert len(body) < CAP
    resp = await client.post("/v1/rerank", data=chunked(body), headers={"Content-Type": "application/json"})
    assert resp.status == 200
    assert len((await resp.json())["results"]) == 60


async def test_chunked_body_over_the_cap_is_a_413(start_gateway: StartGateway) -> None:
    """A chunked body that grows past the cap is refused with the same 413 as a declared one."""
    client = await start_gateway(config())
    body = orjson.dumps({"model": "m", "query": "q", "documents": ["word " * 100] * 10})
    assert len(body) > CAP
    resp = await client.post("/v1/rerank", data=chunked(body), headers={"Content-Type": "application/json"})
    assert resp.status == 413
    assert (await resp.json())["field"] == "$"


async def test_declared_length_over_the_cap_is_refused_before_the_body(start_gateway: StartGateway) -> None:
    """A Content-Length over the cap is answered 413 without waiting for a byte of the body."""
    client = await start_gateway(config())
    reader, writer = await asyncio.open_connection(client.host, client.port)
    head = (
        f"POST /v1/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {CAP * 1000}\r\n\r\n"
    )
    writer.write(head.encode())
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), timeout=10)
    writer.close()
    await writer.wait_closed()
    assert status.startswith(b"HTTP/1.1 413")


async def test_empty_body_is_a_400_naming_the_body(start_gateway: StartGateway) -> None:
    """No body at all is a 400 that says to send a JSON object."""
    client = await start_gateway(config())
    resp = await client.post("/v1/rerank", data=b"", headers={"Content-Type": "application/json"})
    assert resp.status == 400
    data = await resp.json()
    assert data["field"] == "$"
    assert "empty" in data["message"]
