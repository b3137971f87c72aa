"""Fault: the primary answers 200 with a well-formed body whose ranking breaks the integrity rules."""

from __future__ import annotations

import pytest

from tests.conftest import StartFake, StartGateway
from tests.fakes.upstream import Behaviour, mangle, raw
from tests.faults.conftest import BODY, check_integrity, failover, outcomes


def scores(text: str) -> Behaviour:
    """Three results (top_n is 3) whose first score is `text`, written raw into the JSON."""
    body = f'{{"results": [{{"index": 0, "relevance_score": {text}}}, {{"index": 1, "relevance_score": 0.2}},'
    return raw((body + ' {"index": 2, "relevance_score": 0.1}]}').encode())


BROKEN = {
    "wrong count": mangle("short"),
    "duplicate index": mangle("duplicate"),
    "out-of-range index": mangle("out_of_range"),
    "boolean index": mangle("bool_index"),
    "string score": mangle("string_score"),
    "NaN score": mangle("nan"),
    "Infinity score": scores("Infinity"),
    "1e999 score": scores("1e999"),
    "negative index": raw(b'{"results": [{"index": -1, "relevance_score": 0.5}]}'),
    "float index": raw(
        b'{"results": [{"index": 0.0, "relevance_score": 0.5}, {"index": 1, "relevance_score": 0.2},'
        b' {"index": 2, "relevance_score": 0.1}]}'
    ),
    "missing index": raw(
        b'{"results": [{"relevance_score": 0.5}, {"index": 1, "relevance_score": 0.2},'
        b' {"index": 2, "relevance_score": 0.1}]}'
    ),
    "null score": scores("null"),
    "string row": raw(
        b'{"results": ["0", {"index": 1, "relevance_score": 0.2}, {"index": 2, "relevance_score": 0.1}]}'
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
async def test_broken_ranking_fails_over(name: str, start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A ranking that breaks the rules is never passed on: the backup's answer is, and it passes the rules."""
    primary, primary_url = await start_fake("cohere", default=BROKEN[name])
    _, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url, "max_retries": 2}, backup_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "backup"
    check_integrity(await resp.json(), n=4, top_n=3)
    assert primary.calls == 1
    alone = await start_gateway(failover({"base_url": primary_url}))
    resp = await alone.post("/v1/rerank", json=BODY)
    assert resp.status == 502
    assert outcomes(await resp.json()) == ["invalid_response"]
