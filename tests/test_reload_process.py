"""Config reload of a real process under load: SIGHUP with a valid and an invalid config, a ConfigMap swap."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import SEED, StartFake, model
from tests.gateway_process import GatewayProcess, Line, configmap, until, write_config

SERVER = {"host": "127.0.0.1", "port": 0, "config_poll_interval": 0.1, "pre_stop_delay": 0.0}


def config(provider: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A config whose model `m` is served by one provider."""
    return {"server": SERVER, "providers": {provider: spec}, "models": {"m": model((provider, "x"))}}


def reloaded(reason: str, n: int) -> Callable[[Line], bool]:
    """A matcher for the n-th `config reloaded` line (generation n) caused by `reason`."""
    return lambda line: line.get("msg") == "config reloaded" and line["reason"] == reason and line["generation"] == n


def rejected(line: Line) -> bool:
    """Whether a log line reports a rejected reload."""
    return str(line.get("msg", "")).startswith("config reload rejected")


async def test_sighup_and_configmap_swap_under_load(start_fake: StartFake, tmp_path: Path) -> None:
    """Valid configs are applied, an invalid one is logged and ignored, and no request fails meanwhile."""
    _, upstream = await start_fake("jina")
    configmap(tmp_path, "v1", config("local", {"type": "local"}))
    gateway = await GatewayProcess.start(tmp_path / "config.yaml")
    statuses: list[int] = []
    providers: list[str] = []
    done = asyncio.Event()

    async def load(session: aiohttp.ClientSession, url: str) -> None:
        for _ in range(2000):  # bounded; normally stopped by `done` long before
            if done.is_set():
                return
            async with session.post(f"{url}/v1/rerank", json=SEED) as resp:
                statuses.append(resp.status)
                providers.append(resp.headers.get("x-rerank-provider", "-"))

    try:
        url = f"http://127.0.0.1:{await gateway.port()}"
        async with aiohttp.ClientSession() as session:
            clients = [asyncio.create_task(load(session, url)) for _ in range(4)]
            await until(lambda: len(statuses) >= 8)
            # 1. SIGHUP after editing the file behind the link (the watcher may see it first: either is fine).
            write = tmp_path / "..v1" / "config.yaml"
            write_config(write, config("jina", {"type": "jina", "base_url": upstream}))
            gateway.signal(signal.SIGHUP)
            await gateway.wait_for(lambda line: line.get("msg") == "config reloaded")
            # 2. An invalid config: rejected, with its problems, and the jina config keeps serving.
            write_config(write, {"providers": {}, "models": {"m": {"providers": [{"provider": "ghost"}]}}})
            gateway.signal(signal.SIGHUP)
            [bad, *_] = await gateway.wait_for(rejected)
            assert bad["level"] == "error"
            assert bad["problems"] == ["$.models.m.providers[0].provider: unknown provider 'ghost'"]
            resp = await session.post(f"{url}/v1/rerank", json=SEED)
            assert (resp.status, resp.headers["x-rerank-provider"]) == (200, "jina")
            # 3. The kubelet's way: a new directory and an atomic `..data` swap, noticed without a signal.
            generation = max(line["generation"] for line in gateway.lines if line.get("msg") == "config reloaded")
            configmap(tmp_path, "v2", config("local2", {"type": "local"}))
            await gateway.wait_for(reloaded("file changed", generation + 1))
            resp = await session.post(f"{url}/v1/rerank", json=SEED)
            assert (resp.status, resp.headers["x-rerank-provider"]) == (200, "local2")
            done.set()
            await asyncio.gather(*clients)
        gateway.signal(signal.SIGTERM)
        assert await gateway.exit_code() == 0
    finally:
        await gateway.kill()
    assert set(statuses) == {200}
    assert {"local", "jina", "local2"} <= set(providers)
