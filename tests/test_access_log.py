"""Structured logs: one JSON access line per request, and never a document, a query or a key in any line."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import orjson
import pytest

from gateway.logs import JsonFormatter
from tests.conftest import SEED, StartFake, StartGateway, model
from tests.fakes.upstream import ok, status
from tests.gateway_process import until

QUERY = "query-marker-7f3a"
DOCS = ["document-marker-one", "document-marker-two"]
GATEWAY_KEY = "gateway-key-marker-91c2"
PROVIDER_KEY = "provider-key-marker-5d0e"
SECRETS = (QUERY, *DOCS, GATEWAY_KEY, PROVIDER_KEY)


def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """Every captured record, rendered exactly as the gateway writes it, decoded again."""
    formatter = JsonFormatter()
    return [orjson.loads(formatter.format(r)) for r in caplog.records]


async def traffic(start_fake: StartFake, start_gateway: StartGateway) -> list[str]:
    """Send a mix of good and failing requests carrying the markers; returns their request ids."""
    fake, url = await start_fake("cohere", api_key=PROVIDER_KEY)
    # The upstream error body echoes the query and a document, as some providers do.
    fake.then(status(500, body={"message": f"cannot rank {QUERY} against {DOCS[0]}"}))
    client = await start_gateway(
        {
            "auth": {"api_keys": [{"name": "team-a", "key": GATEWAY_KEY}]},
            "providers": {"up": {"type": "cohere", "base_url": url, "api_key": PROVIDER_KEY, "max_retries": 0}},
            "models": {"m": model(("up", "x"))},
        }
    )
    good = {"Authorization": f"Bearer {GATEWAY_KEY}"}
    body = {"model": "m", "query": QUERY, "documents": DOCS}
    sent = [
        (good, body),  # the upstream fails: 502
        (good, body),  # 200
        ({"Authorization": f"Bearer {GATEWAY_KEY}x"}, body),  # wrong key: 401
        (good, {**body, "documents": [{"title": DOCS[0]}]}),  # object without text: 400
        (good, {**body, "extra": DOCS[1]}),  # unknown field: 400
        (good, {**body, "model": "nope"}),  # unknown model: 404
    ]
    ids = []
    for headers, payload in sent:
        resp = await client.post("/v1/rerank", json=payload, headers=headers)
        ids.append(resp.headers["x-request-id"])
    raw = await client.post("/v1/rerank", data=f'{{"query": "{QUERY}", '.encode(), headers=good)
    ids.append(raw.headers["x-request-id"])
    assert [r.status for r in [resp, raw]] == [404, 400]
    return ids


async def test_one_access_line_per_request(
    start_fake: StartFake, start_gateway: StartGateway, caplog: pytest.LogCaptureFixture
) -> None:
    """Every request, good or failed, gets exactly one access line with its id, status, model and attempts."""
    caplog.set_level(logging.INFO)
    ids = await traffic(start_fake, start_gateway)
    access = [line for line in lines(caplog) if line["logger"] == "gateway.access"]
    assert [line["request_id"] for line in access] == ids
    first, second = access[0], access[1]
    assert (first["status"], first["attempts"], first["provider"], first["outcome"]) == (502, 1, None, "upstream_error")
    assert (second["status"], second["attempts"], second["provider"], second["outcome"]) == (200, 1, "up", "ok")
    assert (first["cache"], second["cache"]) == (None, "miss")
    for line in access:
        assert line["level"] == "info"
        assert {"request_id", "model", "dialect", "status", "duration_ms", "provider", "attempts"} <= set(line)
    assert second["model"] == "m"
    assert second["dialect"] == "cohere"
    assert second["key"] == "team-a"


async def test_no_line_carries_a_query_document_or_key(
    start_fake: StartFake, start_gateway: StartGateway, caplog: pytest.LogCaptureFixture
) -> None:
    """At info level no log line, from any logger, contains the query, a document or a key."""
    caplog.set_level(logging.INFO)
    await traffic(start_fake, start_gateway)
    text = "\n".join(orjson.dumps(line).decode() for line in lines(caplog))
    assert "gateway.access" in text
    for secret in SECRETS:
        assert secret not in text


async def test_debug_adds_the_query_and_nothing_else(
    start_fake: StartFake, start_gateway: StartGateway, caplog: pytest.LogCaptureFixture
) -> None:
    """At debug level the access line carries the query; documents and keys still appear nowhere."""
    caplog.set_level(logging.DEBUG)
    await traffic(start_fake, start_gateway)
    logged = lines(caplog)
    with_query = [line for line in logged if QUERY in orjson.dumps(line).decode()]
    assert with_query
    assert all(line["logger"] == "gateway.access" and line["query"] == QUERY for line in with_query)
    text = "\n".join(orjson.dumps(line).decode() for line in logged)
    for secret in (*DOCS, GATEWAY_KEY, PROVIDER_KEY):
        assert secret not in text


async def test_an_abandoned_request_still_gets_its_line(
    start_fake: StartFake, start_gateway: StartGateway, caplog: pytest.LogCaptureFixture
) -> None:
    """When the client hangs up mid-request (the handler is cancelled, as in production), the line says 499."""
    fake, url = await start_fake("cohere", default=ok(delay=1.0))
    client = await start_gateway(
        {"providers": {"up": {"type": "cohere", "base_url": url}}, "models": {"m": model(("up", "x"))}}
    )
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession() as session:
        call = session.post(client.make_url("/v1/rerank"), json=SEED, headers={"x-request-id": "gone"})
        task = asyncio.create_task(call)
        await until(lambda: fake.calls >= 1)
        task.cancel()

    def access() -> list[dict[str, Any]]:
        return [line for line in lines(caplog) if line["logger"] == "gateway.access"]

    await until(lambda: bool(access()))
    [line] = access()
    assert (line["request_id"], line["status"], line["outcome"], line["model"]) == ("gone", 499, "client_closed", "m")
