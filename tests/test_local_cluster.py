"""The local cluster (deploy/local-cluster): three replicas behind HAProxy survive SIGTERM and SIGKILL."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import pytest
import yaml

from tests.conftest import StartFake, model
from tests.fakes.upstream import ok
from tests.procs import ROOT, eventually, free_port

SCRIPT = ROOT / "deploy" / "local-cluster" / "cluster.py"
REPLICAS = 3


def free_ports(count: int) -> int:
    """The first of `count` consecutive loopback ports that are all free right now."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20_000, 60_000)
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return base
    raise RuntimeError("no run of free ports found")


@attrs.define
class Cluster:
    """The script's view of one cluster: its run directory and ports."""

    run: Path
    lb_port: int

    async def script(self, *args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(SCRIPT), *args, "--dir", str(self.run), stdout=asyncio.subprocess.PIPE
        )
        out, _ = await proc.communicate()
        assert proc.returncode is not None
        return proc.returncode, out.decode()

    def pid(self, name: str) -> int:
        return int((self.run / f"{name}.pid").read_text())

    async def gone(self, pid: int) -> None:
        """Wait until `pid` has exited (a zombie counts as exited: nobody may reap it here)."""

        async def exited() -> bool:
            return _exited(pid)

        await eventually(exited, within=30, what=f"process {pid} exited")


def _exited(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@attrs.define
class Load:
    """Clients sending requests through the load balancer; each request's start time and outcome kept."""

    url: str
    records: list[tuple[float, float, int]] = attrs.field(factory=list)
    stopped: asyncio.Event = attrs.field(factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = attrs.field(factory=list)

    def start(self, session: aiohttp.ClientSession, workers: int = 6) -> None:
        self.stopped.clear()
        self.tasks = [asyncio.create_task(self._worker(session, w)) for w in range(workers)]

    async def _worker(self, session: aiohttp.ClientSession, w: int) -> None:
        loop = asyncio.get_running_loop()
        i = 0
        while not self.stopped.is_set():
            body = {"model": "m", "query": f"q{i % 5}", "documents": [f"d{(w + i + k) % 30}" for k in range(6)]}
            began = loop.time()
            try:
                async with session.post(self.url, json=body) as resp:
                    await resp.read()
                    code = resp.status
            except aiohttp.ClientError:
                code = 0
            self.records.append((began, loop.time(), code))
            i += 1

    async def run_for(self, count: int) -> None:
        """Let `count` more requests finish."""
        target = len(self.records) + count

        async def reached() -> bool:
            return len(self.records) >= target

        await eventually(reached, within=30, what=f"{count} more requests")

    async def stop(self) -> None:
        self.stopped.set()
        await asyncio.gather(*self.tasks)


@pytest.fixture
async def cluster(start_fake: StartFake, tmp_path: Path) -> AsyncIterator[Cluster]:
    """Redis, three gateway replicas and HAProxy, started by the script and stopped by it afterwards."""
    _, upstream = await start_fake("cohere", default=ok(delay=0.02))  # requests stay in flight a while
    config: dict[str, Any] = {
        "server": {"drain_timeout": 10},
        "providers": {"p": {"type": "cohere", "base_url": upstream}},
        "models": {"m": model(("p", "x"))},
        "state": {"backend": "redis", "redis": {"url": "redis://127.0.0.1:${CLUSTER_REDIS_PORT}/0"}},
    }
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    lb_port, base, redis_port = free_port(), free_ports(REPLICAS), free_port()
    c = Cluster(tmp_path / "run", lb_port)
    args = ["--config", str(path), "--lb-port", str(lb_port), "--base-port", str(base)]
    code, out = await c.script("start", *args, "--redis-port", str(redis_port), "--replicas", str(REPLICAS))
    try:
        assert code == 0, out
        yield c
    finally:
        code, out = await c.script("stop")
        assert code == 0, out
        code, out = await c.script("status")
        assert code == 3
        assert "running" not in out


async def test_cluster_serves_through_sigterm_and_sigkill(cluster: Cluster) -> None:
    """Under load: a replica SIGTERMed and restarted fails no request; after a SIGKILL only in-flight ones may."""
    load = Load(f"http://127.0.0.1:{cluster.lb_port}/v1/rerank")
    connector = aiohttp.TCPConnector(limit=20)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=20)) as session:
        load.start(session)
        await load.run_for(60)

        # SIGTERM: the replica drains and exits; HAProxy sends its traffic elsewhere.
        pid = cluster.pid("gateway-1")
        os.kill(pid, signal.SIGTERM)
        await cluster.gone(pid)
        await load.run_for(60)
        code, out = await cluster.script("start")  # brings back just the missing replica
        assert code == 0, out
        assert cluster.pid("gateway-1") != pid
        await load.run_for(60)
        assert [r for r in load.records if r[2] != 200] == []

        # SIGKILL: requests in flight on that replica may fail; none that starts afterwards.
        killed_at = asyncio.get_running_loop().time()
        os.kill(cluster.pid("gateway-2"), signal.SIGKILL)
        await load.run_for(150)
        await load.stop()

    failed = [r for r in load.records if r[2] != 200]
    assert all(began < killed_at < ended for began, ended, _ in failed), failed
    assert len(failed) <= 6  # at most one in flight per client
    code, out = await cluster.script("status")
    assert code == 3
    assert "gateway-2" in out
