"""Hedging configured on a model in YAML, end to end over loopback."""

from __future__ import annotations

import asyncio

from tests.conftest import StartFake, StartGateway
from tests.fakes.upstream import hang
from tests.faults.conftest import BODY, failover


async def test_model_hedge_races_the_backup(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """With `hedge` on the model, a hanging primary is overtaken by the backup and its call is cancelled."""
    primary, primary_url = await start_fake("cohere", default=hang())
    _, backup_url = await start_fake("cohere")
    client = await start_gateway(failover({"base_url": primary_url, "timeout": 30}, backup_url, hedge={"delay": 0.05}))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "backup"
    for _ in range(500):
        if primary.cancelled:
            break
        await asyncio.sleep(0.01)
    assert primary.cancelled == 1
