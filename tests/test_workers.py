"""`--workers N`: N processes share one port, the parent forwards SIGHUP and SIGTERM and exits 0 after they drain."""

from __future__ import annotations

import signal
from pathlib import Path

import aiohttp

from tests.conftest import SEED, model
from tests.gateway_process import GatewayProcess, write_config

CONFIG = {
    "server": {"host": "127.0.0.1", "port": 0, "config_poll_interval": 0, "pre_stop_delay": 0.0},
    "providers": {"local": {"type": "local"}},
    "models": {"m": model(("local", "bm25"))},
}


async def test_two_workers_share_the_port_and_follow_the_parent(tmp_path: Path) -> None:
    """Two workers answer on one port; SIGHUP reloads both; SIGTERM stops both and the parent exits 0."""
    path = write_config(tmp_path / "config.yaml", CONFIG)
    gateway = await GatewayProcess.start(path, "--workers", "2")
    try:
        port = await gateway.port(workers=2)
        listening = [line for line in gateway.lines if line.get("msg") == "listening"]
        parent = gateway.proc.pid
        workers = {line["pid"] for line in listening}
        assert len(workers) == 2
        assert parent not in workers
        async with aiohttp.ClientSession() as session:
            for _ in range(40):
                # A new connection each time, so the kernel can pick either worker.
                headers = {"Connection": "close"}
                async with session.post(f"http://127.0.0.1:{port}/v1/rerank", json=SEED, headers=headers) as resp:
                    assert resp.status == 200
        served = {line["pid"] for line in gateway.lines if line.get("logger") == "gateway.access"}
        assert served == workers
        write_config(path, {**CONFIG, "models": {"m2": model(("local", "bm25"))}})
        gateway.signal(signal.SIGHUP)
        reloads = await gateway.wait_for(lambda line: line.get("msg") == "config reloaded", count=2)
        assert {line["pid"] for line in reloads} == workers
        gateway.signal(signal.SIGTERM)
        assert await gateway.exit_code() == 0
    finally:
        await gateway.kill()
    stopped = {line["pid"] for line in gateway.lines if line.get("msg") == "stopped"}
    assert stopped == workers
    assert gateway.lines[-1]["msg"] == "workers stopped"
    assert gateway.lines[-1]["exit_codes"] == [0, 0]


async def test_workers_warn_that_memory_quotas_are_per_worker(tmp_path: Path) -> None:
    """With `state.backend: memory` and a key with rpm, the parent warns once that each worker counts on its own."""
    limited = {**CONFIG, "auth": {"api_keys": [{"name": "team", "key": "k", "rpm": 60}]}}
    gateway = await GatewayProcess.start(write_config(tmp_path / "config.yaml", limited), "--workers", "2")
    try:
        [warning] = await gateway.wait_for(lambda line: "own quotas" in line.get("msg", ""))
        assert (warning["level"], warning["pid"], warning["keys"]) == ("warning", gateway.proc.pid, ["team"])
        assert "2 times its rpm/dpm" in warning["msg"]
        await gateway.port(workers=2)
        gateway.signal(signal.SIGTERM)
        assert await gateway.exit_code() == 0
    finally:
        await gateway.kill()
    assert len([line for line in gateway.lines if "own quotas" in line.get("msg", "")]) == 1
