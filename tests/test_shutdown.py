"""Graceful shutdown of a real process: SIGTERM under load fails no accepted request, and the exit code is 0."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp
import attrs

from tests.conftest import SEED, StartFake, model
from tests.fakes.upstream import ok
from tests.gateway_process import GatewayProcess, until, write_config

CLIENTS = 8
#: Each client stops after this many requests, whatever happens: the load is bounded.
MAX_REQUESTS = 150


@attrs.define
class Outcome:
    """One client request: whether it started before SIGTERM, and its status (None: no answer)."""

    before_signal: bool
    status: int | None


async def client_loop(session: aiohttp.ClientSession, url: str, signalled: asyncio.Event, out: list[Outcome]) -> None:
    """Send requests back to back until the gateway stops answering after the signal."""
    for _ in range(MAX_REQUESTS):
        before = not signalled.is_set()
        try:
            async with session.post(f"{url}/v1/rerank", json=SEED) as resp:
                await resp.read()
                out.append(Outcome(before, resp.status))
        except aiohttp.ClientError:
            out.append(Outcome(before, None))
            if signalled.is_set():
                return  # the gateway has stopped accepting: expected once it drains


def gateway_config(upstream: str, *, pre_stop_delay: float) -> dict[str, Any]:
    """A gateway in front of one upstream, with the given pre-stop delay and a 10 s drain."""
    return {
        "server": {"host": "127.0.0.1", "port": 0, "pre_stop_delay": pre_stop_delay, "drain_timeout": 10.0},
        "providers": {"up": {"type": "cohere", "base_url": upstream}},
        "models": {"m": model(("up", "x"))},
    }


async def test_in_flight_requests_finish_after_sigterm(start_fake: StartFake, tmp_path: Path) -> None:
    """Requests in flight when SIGTERM arrives (no pre-stop delay) all finish with 200; new connections are refused."""
    fake, upstream = await start_fake("cohere", default=ok(delay=1.0))
    config = gateway_config(upstream, pre_stop_delay=0.0)
    gateway = await GatewayProcess.start(write_config(tmp_path / "config.yaml", config))
    try:
        url = f"http://127.0.0.1:{await gateway.port()}"
        async with aiohttp.ClientSession() as session:
            pending = [asyncio.create_task(session.post(f"{url}/v1/rerank", json=SEED)) for _ in range(CLIENTS)]
            await until(lambda: fake.calls >= CLIENTS)
            gateway.signal(signal.SIGTERM)
            await gateway.wait_for(lambda line: line.get("msg") == "draining")
            responses = await asyncio.gather(*pending)
            assert [r.status for r in responses] == [200] * CLIENTS
            assert await gateway.exit_code() == 0
            try:
                await session.get(f"{url}/healthz")
                raise AssertionError("the gateway still accepts connections after exiting")
            except aiohttp.ClientConnectorError:
                pass
    finally:
        await gateway.kill()


async def test_sigterm_under_load_drains_and_exits_zero(start_fake: StartFake, tmp_path: Path) -> None:
    """After SIGTERM readiness fails at once, requests are still served, every accepted one succeeds, exit 0."""
    _, upstream = await start_fake("cohere", default=ok(delay=0.2))
    config = gateway_config(upstream, pre_stop_delay=2.0)
    gateway = await GatewayProcess.start(write_config(tmp_path / "config.yaml", config))
    try:
        url = f"http://127.0.0.1:{await gateway.port()}"
        signalled = asyncio.Event()
        outcomes: list[Outcome] = []
        async with aiohttp.ClientSession() as session, aiohttp.ClientSession() as probe:
            assert (await probe.get(f"{url}/readyz")).status == 200
            clients = [asyncio.create_task(client_loop(session, url, signalled, outcomes)) for _ in range(CLIENTS)]
            await until(lambda: len(outcomes) >= 2 * CLIENTS)
            signalled.set()
            gateway.signal(signal.SIGTERM)
            await gateway.wait_for(lambda line: line.get("msg") == "draining")
            assert (await probe.get(f"{url}/readyz")).status == 503
            assert (await probe.get(f"{url}/healthz")).status == 200
            during = await probe.post(f"{url}/v1/rerank", json=SEED)
            assert during.status == 200, "the gateway keeps serving during the pre-stop delay"
            assert await gateway.exit_code() == 0
            await asyncio.gather(*clients)
    finally:
        await gateway.kill()
    accepted = [o for o in outcomes if o.before_signal]
    assert accepted
    assert all(o.status == 200 for o in accepted), accepted
    assert any(o.status == 200 for o in outcomes if not o.before_signal)
    assert gateway.lines[-1]["msg"] == "stopped"
