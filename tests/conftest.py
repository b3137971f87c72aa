"""Shared fixtures: fake upstreams on loopback, and the real gateway app built from YAML config."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web_runner import BaseRunner

from gateway import config as config_mod
from gateway.app import create_app
from gateway.router import Attempts
from gateway.web.fastlane import Runner
from tests.fakes.clock import FakeClock
from tests.fakes.tcp import Handler, RawUpstream, StartRaw
from tests.fakes.upstream import FakeUpstream
from tests.procs import RedisServer

StartFake = Callable[..., Awaitable[tuple[FakeUpstream, str]]]
StartGateway = Callable[..., Awaitable[TestClient[Any, Any]]]


class GatewayServer(TestServer):
    """aiohttp's test server on the gateway's own runner: the fast lane in front, as `serve` has it."""

    def __init__(self, app: web.Application, *, fast_lane: bool = True, keepalive_timeout: float = 75.0) -> None:
        super().__init__(app)
        self.fast_lane = fast_lane
        self.keepalive_timeout = keepalive_timeout

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return Runner(self.app, fast_lane=self.fast_lane, keepalive_timeout=self.keepalive_timeout, **kwargs)


@pytest.fixture
def sleeps() -> list[float]:
    """Every backoff or Retry-After wait the gateway asked for; tests never really wait."""
    return []


@pytest.fixture
def start_fake(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> StartFake:
    """Start a fake upstream of a dialect on a loopback port; returns it and its base URL."""

    async def start(dialect: str, **kwargs: Any) -> tuple[FakeUpstream, str]:
        fake = FakeUpstream(dialect, **kwargs)
        server = await aiohttp_server(fake.app())
        return fake, f"http://127.0.0.1:{server.port}"

    return start


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens, so connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def start_gateway(aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]], sleeps: list[float]) -> StartGateway:
    """Start the real gateway on a config (a dict, written out as YAML and loaded like a file)."""

    async def no_wait(seconds: float) -> None:
        sleeps.append(seconds)

    async def start(
        config: dict[str, Any],
        *,
        env: dict[str, str] | None = None,
        clock: FakeClock | None = None,
        fast_lane: bool = True,
        keepalive_timeout: float = 75.0,
    ) -> TestClient[Any, Any]:
        loaded = config_mod.parse(yaml.safe_dump(config), env=env or {})
        attempts = Attempts(sleep=no_wait)
        if clock is not None:  # breakers, budget and deadlines all on the test's clock; waits move it

            async def tick(seconds: float) -> None:
                sleeps.append(seconds)
                clock.advance(seconds)

            attempts = Attempts(sleep=tick, clock=clock)
        app = create_app(loaded, attempts=attempts)
        return await aiohttp_client(GatewayServer(app, fast_lane=fast_lane, keepalive_timeout=keepalive_timeout))

    return start


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server of the test's own, on a free loopback port, stopped afterwards."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def model(*routes: tuple[str, str], **extra: Any) -> dict[str, Any]:
    """A model entry with providers in order."""
    return {"type": "rerank", "providers": [{"provider": p, "model": m} for p, m in routes], **extra}


SEED = {"model": "m", "query": "Apple", "documents": ["apple", "banana", "fruit", "vegetable"]}


async def chunked(body: bytes, size: int = 300) -> AsyncIterator[bytes]:
    """`body` in pieces of `size` bytes: posted as `data=`, it goes chunked, with no Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.fixture
async def start_raw() -> AsyncIterator[StartRaw]:
    """Start byte-level servers on loopback; each is closed after the test."""
    started: list[RawUpstream] = []

    async def start(handler: Handler) -> tuple[RawUpstream, str]:
        raw = RawUpstream(handler)
        started.append(raw)
        return raw, await raw.start()

    yield start
    for raw in started:
        await raw.close()
