"""Fault: the primary is slow but answers inside its timeout."""

from __future__ import annotations

from tests.conftest import StartFake, StartGateway
from tests.fakes.upstream import ok
from tests.faults.conftest import BODY, check_integrity, failover


async def test_slow_answer_inside_the_timeout_is_used(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """A slow but timely primary answers; the backup is never called and no retry happens."""
    primary, primary_url = await start_fake("cohere", default=ok(delay=0.2))
    backup, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url, "timeout": 5}, backup_url))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "primary"
    check_integrity(await resp.json(), n=4, top_n=3)
    assert (primary.calls, backup.calls) == (1, 0)
