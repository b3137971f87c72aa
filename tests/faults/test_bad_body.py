"""Fault: the primary answers 200 with a body that is not a usable JSON answer."""

from __future__ import annotations

import pytest

from tests.conftest import StartFake, StartGateway
from tests.fakes.upstream import Behaviour, raw
from tests.faults.conftest import BODY, failover, outcomes

BAD = {
    "bad json": raw(b'{"results": [{"index": 0, "relevance_score": 0.5}'),
    "wrong content type": raw(b"<html><body>Service Unavailable</body></html>", content_type="text/html"),
    "empty body": raw(b""),
    "json null": raw(b"null"),
    "results not an array": raw(b'{"results": "none"}'),
}


@pytest.mark.parametrize("name", sorted(BAD))
async def test_unusable_200_fails_over(name: str, start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A 200 that is not a valid answer is a provider failure: never passed on, never retried, backup answers."""
    behaviour: Behaviour = BAD[name]
    primary, primary_url = await start_fake("cohere", default=behaviour)
    _, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url, "max_retries": 2}, backup_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "backup"
    assert primary.calls == 1
    alone = await start_gateway(failover({"base_url": primary_url}))
    resp = await alone.post("/v1/rerank", json=BODY)
    assert resp.status == 502
    assert outcomes(await resp.json()) == ["invalid_response"]
