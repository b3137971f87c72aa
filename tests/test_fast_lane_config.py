"""Fast-lane config: `server.fast_lane: false` leaves requests to aiohttp; `server.keepalive_timeout` is positive."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import yaml

from gateway import config as config_mod
from gateway.config import ConfigError
from tests.conftest import SEED, StartFake, model
from tests.gateway_process import GatewayProcess, write_config
from tests.raw_http import HANDOVERS, Conn, chunked_post, post, request, scrape

BASE = {"providers": {"l": {"type": "local"}}, "models": {"m": model(("l", "bm25"))}}


@pytest.mark.parametrize("timeout", [0, -1, -0.5])
def test_a_keepalive_timeout_that_is_not_positive_is_refused(timeout: float) -> None:
    """`server.keepalive_timeout` of 0 or less is a config error naming the field."""
    with pytest.raises(ConfigError) as caught:
        config_mod.parse(yaml.safe_dump({**BASE, "server": {"keepalive_timeout": timeout}}), env={})
    assert caught.value.problems == ["$.server.keepalive_timeout: must be greater than 0"]


def test_the_fast_lane_is_on_with_aiohttps_keepalive_by_default() -> None:
    """Unless the config says otherwise, the fast lane is on and idle connections last 75 s, as in aiohttp."""
    server = config_mod.parse(yaml.safe_dump(BASE), env={}).server
    assert (server.fast_lane, server.keepalive_timeout) == (True, 75.0)
    off = config_mod.parse(yaml.safe_dump({**BASE, "server": {"fast_lane": False, "keepalive_timeout": 5}}), env={})
    assert (off.server.fast_lane, off.server.keepalive_timeout) == (False, 5.0)


async def test_fast_lane_false_serves_everything_with_aiohttp(start_fake: StartFake, tmp_path: Path) -> None:
    """With `server.fast_lane: false` a real process serves rerank POSTs, chunked ones and GETs; no handover counts."""
    fake, url = await start_fake("cohere")
    config = {
        "server": {"host": "127.0.0.1", "port": 0, "config_poll_interval": 0, "fast_lane": False},
        "providers": {"up": {"type": "cohere", "base_url": url}},
        "models": {"m": model(("up", "x"))},
        "cache": {"enabled": False},
    }
    gateway = await GatewayProcess.start(write_config(tmp_path / "config.yaml", config))
    try:
        port = await gateway.port()
        async with await Conn.open(port) as conn:
            await conn.send(
                post("/v1/rerank", SEED, headers=[("x-request-id", "r0")])
                + chunked_post("/v1/rerank", SEED, headers=[("x-request-id", "r1")])
                + request("GET", "/healthz", length=False)
                + post("/v2/rerank", SEED, headers=[("x-request-id", "r3")])
            )
            replies = [await conn.reply() for _ in range(4)]
        assert [r.status for r in replies] == [200] * 4
        assert [r.header("x-request-id") for r in (replies[0], replies[1], replies[3])] == ["r0", "r1", "r3"]
        assert fake.calls == 3
        samples = await scrape(port)
        assert [key for key in samples if key[0] == HANDOVERS] == []
        gateway.signal(signal.SIGTERM)
        assert await gateway.exit_code() == 0
    finally:
        await gateway.kill()
