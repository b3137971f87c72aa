"""A client that hangs up before its answer is written: one access line, and no error anywhere."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import yaml
from aiohttp import web

from gateway import config as config_mod
from gateway.app import create_app
from tests.conftest import SEED, StartFake, model
from tests.fakes.upstream import ok
from tests.gateway_process import until
from tests.test_access_log import lines


@pytest.fixture
async def patient_gateway(start_fake: StartFake) -> AsyncIterator[int]:
    """The gateway's port, on a slow upstream, with handlers that run to their end when the client goes.

    That is aiohttp's default (the test client cancels them instead), and the way to reach the write
    to a closed connection every time.
    """
    _, url = await start_fake("cohere", default=ok(delay=0.2))
    config = {"providers": {"up": {"type": "cohere", "base_url": url}}, "models": {"m": model(("up", "x"))}}
    runner = web.AppRunner(create_app(config_mod.parse(yaml.safe_dump(config), env={})), handler_cancellation=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield runner.addresses[0][1]
    await runner.cleanup()


async def test_an_answer_nobody_waits_for_is_logged_without_an_error(
    patient_gateway: int, caplog: pytest.LogCaptureFixture
) -> None:
    """The answer to a client that closed its connection is logged once with its status, and nothing logs an error."""
    caplog.set_level(logging.INFO)
    body = orjson.dumps(SEED)
    head = (
        f"POST /v1/rerank HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        f"x-request-id: hung-up\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    _, writer = await asyncio.open_connection("127.0.0.1", patient_gateway)
    writer.write(head + body)
    await writer.drain()
    writer.close()  # gone before the upstream answers
    await writer.wait_closed()

    def access() -> list[dict[str, Any]]:
        return [line for line in lines(caplog) if line["logger"] == "gateway.access"]

    await until(lambda: bool(access()))
    [line] = access()
    assert (line["request_id"], line["status"], line["outcome"]) == ("hung-up", 200, "ok")
    await asyncio.sleep(0.05)  # anything aiohttp logs about the failed write comes right after
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
