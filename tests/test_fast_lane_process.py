"""The fast lane in a real `python -m gateway serve` process: under uvloop, through a handover and a SIGTERM drain.

pytest's own loop is asyncio's; the gateway process runs on uvloop when it is installed, whose
transports differ (uvloop's `set_protocol` is what a handover relies on). These tests are the
fast lane's only ones on the event loop it runs on in production.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from tests.conftest import SEED, StartFake, model
from tests.fakes.tcp import StartRaw
from tests.gateway_process import GatewayProcess, until, write_config
from tests.raw_http import (
    PATIENCE,
    Conn,
    GatedUpstream,
    chunked_post,
    handovers,
    post,
    request,
    scrape,
)


def config(upstream: str, **server: Any) -> dict[str, Any]:
    """A gateway on loopback in front of one Cohere upstream, with no pre-stop delay and no config polling."""
    return {
        "server": {"host": "127.0.0.1", "port": 0, "pre_stop_delay": 0, "config_poll_interval": 0, **server},
        "providers": {"up": {"type": "cohere", "base_url": upstream}},
        "models": {"m": model(("up", "x"))},
        "cache": {"enabled": False},
    }


async def refused(port: int) -> None:
    """Return once the gateway no longer accepts connections (its listening socket is closed)."""
    for _ in range(int(PATIENCE / 0.02)):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except ConnectionRefusedError:
            return
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(0.02)
    raise AssertionError("the gateway still accepts connections")


async def test_fast_requests_then_a_handover_on_one_connection_under_uvloop(
    start_fake: StartFake, tmp_path: Path
) -> None:
    """In the real process, one connection serves fast requests, is handed over at a chunked one, and serves on."""
    fake, url = await start_fake("cohere")
    gateway = await GatewayProcess.start(write_config(tmp_path / "config.yaml", config(url)))
    try:
        port = await gateway.port()
        data = b"".join(
            (
                post("/v1/rerank", {**SEED, "documents": ["apple"]}, headers=[("x-request-id", "r0")]),
                post("/v2/rerank", {**SEED, "documents": ["apple", "pear"]}, headers=[("x-request-id", "r1")]),
                chunked_post("/v1/rerank", {**SEED, "documents": ["a", "b", "c"]}, headers=[("x-request-id", "r2")]),
                post("/v1/rerank", {**SEED, "documents": ["a", "b", "c", "d"]}, headers=[("x-request-id", "r3")]),
            )
        )
        async with await Conn.open(port) as conn:
            await conn.send(data[:200])  # the first head in two writes, then the rest in one
            await conn.send(data[200:])
            replies = [await conn.reply() for _ in range(4)]
            await conn.send(request("GET", "/healthz", length=False))
            assert (await conn.reply()).status == 200
        assert [(r.status, r.header("x-request-id")) for r in replies] == [(200, f"r{i}") for i in range(4)]
        assert [len(r.json()["results"]) for r in replies] == [1, 2, 3, 4]
        assert fake.calls == 4
        assert handovers(await scrape(port)) == {"framing": 1}
        gateway.signal(signal.SIGTERM)
        assert await gateway.exit_code() == 0
    finally:
        await gateway.kill()


async def test_sigterm_lets_a_fast_request_finish_with_connection_close(start_raw: StartRaw, tmp_path: Path) -> None:
    """At SIGTERM idle connections close at once; one with a fast request in flight gets 200 and Connection: close."""
    upstream = GatedUpstream()
    _, url = await start_raw(upstream.handle)
    gateway = await GatewayProcess.start(write_config(tmp_path / "config.yaml", config(url, drain_timeout=10)))
    try:
        port = await gateway.port()
        async with await Conn.open(port) as busy, await Conn.open(port) as idle:
            await idle.send(request("GET", "/healthz?probe=1", length=False))  # handed over to aiohttp: its idle close
            assert (await idle.reply()).status == 200
            async with await Conn.open(port) as idle_fast:
                await busy.send(post("/v1/rerank", SEED, headers=[("x-request-id", "in-flight")]))
                await until(lambda: len(upstream.bodies) == 1)
                assert handovers(await scrape(port)) == {"request_line": 1}  # `idle`'s GET: `busy` is fast
                gateway.signal(signal.SIGTERM)
                await refused(port)  # the drain has begun: no new connections
                assert await idle_fast.at_eof()  # never used: closed at once
                assert await idle.at_eof()
                upstream.gate.set()
                reply = await busy.reply()
                assert await busy.at_eof()
        assert (reply.status, reply.header("Connection"), reply.header("x-request-id")) == (200, "close", "in-flight")
        assert len(reply.json()["results"]) == len(SEED["documents"])
        assert await gateway.exit_code() == 0
    finally:
        await gateway.kill()


async def test_a_fast_request_past_the_drain_timeout_is_cut_off(start_raw: StartRaw, tmp_path: Path) -> None:
    """A fast-lane request still in flight when the drain timeout runs out is cancelled, and the process exits 0."""
    upstream = GatedUpstream()  # never opened
    _, url = await start_raw(upstream.handle)
    gateway = await GatewayProcess.start(write_config(tmp_path / "config.yaml", config(url, drain_timeout=0.3)))
    try:
        port = await gateway.port()
        async with await Conn.open(port) as conn:
            await conn.send(post("/v1/rerank", SEED, headers=[("x-request-id", "too-slow")]))
            await until(lambda: len(upstream.bodies) == 1)
            gateway.signal(signal.SIGTERM)
            assert await conn.at_eof()
        assert await gateway.exit_code() == 0
        [line] = [line for line in gateway.lines if line.get("request_id") == "too-slow"]
        assert (line["status"], line["outcome"]) == (499, "client_closed")
    finally:
        await gateway.kill()


async def test_during_the_pre_stop_delay_fast_answers_ask_clients_to_reconnect(
    start_fake: StartFake, tmp_path: Path
) -> None:
    """Within the pre-stop delay after SIGTERM, the next fast request on a connection gets 200 and Connection: close."""
    _, url = await start_fake("cohere")
    gateway = await GatewayProcess.start(write_config(tmp_path / "config.yaml", config(url, pre_stop_delay=0.5)))
    try:
        port = await gateway.port()
        async with await Conn.open(port) as conn:
            await conn.send(post("/v1/rerank", SEED, headers=[("x-request-id", "before")]))
            before = await conn.reply()
            gateway.signal(signal.SIGTERM)
            await gateway.wait_for(lambda line: line.get("msg") == "draining")
            await conn.send(post("/v1/rerank", SEED, headers=[("x-request-id", "during")]))
            during = await conn.reply()
            assert await conn.at_eof()
        assert (before.status, before.header("Connection")) == (200, None)
        assert (during.status, during.header("Connection"), during.header("x-request-id")) == (200, "close", "during")
        assert await gateway.exit_code() == 0
    finally:
        await gateway.kill()
