"""Upstream API keys never appear in a response or a log line, whatever happens."""

from __future__ import annotations

import logging

import pytest

from gateway.logs import JsonFormatter
from tests.conftest import StartFake, StartGateway, model
from tests.fakes.upstream import raw, status

SECRET = "sk-live-UPSTREAM-SECRET-42"


async def test_no_upstream_key_in_responses_or_logs(
    start_fake: StartFake, start_gateway: StartGateway, caplog: pytest.LogCaptureFixture, dead_url: str
) -> None:
    """Through success, 401 from upstream, garbage, refusal and total failure, the key is never shown."""
    caplog.set_level(logging.DEBUG)
    good, good_url = await start_fake("cohere", api_key=SECRET)
    bad, bad_url = await start_fake("siliconflow")
    bad.default = status(401, body={"message": f"invalid key {SECRET}"})
    config = {
        "providers": {
            "dead": {"type": "jina", "base_url": dead_url, "api_key": "${KEY}"},
            "bad": {"type": "siliconflow", "base_url": bad_url, "api_key": "${KEY}"},
            "good": {"type": "cohere", "base_url": good_url, "api_key": "${KEY}"},
        },
        "models": {"ok": model(("dead", "x"), ("bad", "y"), ("good", "z")), "fail": model(("dead", "x"), ("bad", "y"))},
    }
    client = await start_gateway(config, env={"KEY": SECRET})
    seen = []
    for name in ("ok", "fail"):
        resp = await client.post("/v1/rerank", json={"model": name, "query": "q", "documents": ["a", "b"]})
        seen.append(await resp.text())
        seen.append(str(dict(resp.headers)))
    bad.default = raw(f'{{"results": "{SECRET}"}}'.encode())
    resp = await client.post("/v1/rerank", json={"model": "fail", "query": "q", "documents": ["a"]})
    seen.append(await resp.text())
    formatter = JsonFormatter()
    seen.extend(formatter.format(r) for r in caplog.records)
    assert good.calls == 1
    assert len(caplog.records) >= 3
    assert not [s for s in seen if SECRET in s]


async def test_a_key_with_a_trailing_newline_is_sent_without_it(
    start_fake: StartFake, start_gateway: StartGateway, caplog: pytest.LogCaptureFixture
) -> None:
    """A key read from a Secret file ending in a newline works: the upstream gets the key alone, no log shows it."""
    caplog.set_level(logging.DEBUG)
    fake, url = await start_fake("cohere", api_key=SECRET)
    config = {
        "providers": {"p": {"type": "cohere", "base_url": url, "api_key": "${KEY}"}},
        "models": {"m": model(("p", "x"))},
    }
    client = await start_gateway(config, env={"KEY": SECRET + "\n"})
    resp = await client.post("/v1/rerank", json={"model": "m", "query": "q", "documents": ["a"]})
    assert resp.status == 200
    assert fake.headers_seen[0]["Authorization"] == f"Bearer {SECRET}"
    assert not [line for line in map(JsonFormatter().format, caplog.records) if SECRET in line]
