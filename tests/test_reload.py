"""Config reload in process: validated first, old config kept when invalid, in-flight requests keep their config."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from gateway.providers.wire import Pool
from gateway.reload import Reloader, stamp, watch
from gateway.web.keys import LIVE, METRICS
from tests.conftest import SEED, StartFake, StartGateway, model
from tests.fakes.upstream import ok, status
from tests.gateway_process import configmap, until, write_config
from tests.raw_http import Conn, port_of, post


def single(name: str, dialect: str, url: str) -> dict[str, Any]:
    """A config whose model `m` is served by one provider `name`."""
    return {"providers": {name: {"type": dialect, "base_url": url}}, "models": {"m": model((name, "x"))}}


def reloader_for(client: TestClient[Any, Any], path: Path) -> Reloader:
    """The reloader the server would attach to this app, reading `path`."""
    return Reloader(client.app[LIVE], client.app[METRICS], str(path))


async def test_in_flight_request_finishes_on_the_config_it_started_with(
    start_fake: StartFake, start_gateway: StartGateway, tmp_path: Path
) -> None:
    """A slow request started before a reload is answered by the old provider; new requests go to the new one."""
    slow, slow_url = await start_fake("cohere", default=ok(delay=0.5))
    _, new_url = await start_fake("jina")
    client = await start_gateway(single("old", "cohere", slow_url))
    reloader = reloader_for(client, write_config(tmp_path / "config.yaml", single("new", "jina", new_url)))
    first = asyncio.create_task(client.post("/v1/rerank", json=SEED))
    await until(lambda: slow.calls >= 1)
    assert await reloader.reload("test")
    second = await client.post("/v1/rerank", json=SEED)
    assert (second.status, second.headers["x-rerank-provider"]) == (200, "new")
    answer = await first
    assert (answer.status, answer.headers["x-rerank-provider"]) == (200, "old")
    await reloader.aclose()


async def test_a_fast_lane_body_that_ends_after_a_reload_is_served_on_a_live_config(
    start_fake: StartFake, start_gateway: StartGateway, tmp_path: Path
) -> None:
    """A body still arriving when a reload retires the old config is served by the new one, not by a closed one.

    A request counts against a generation only once its body is all here (`serve`), so it must not
    use the runtime of the head's time: that one may be closed by then.
    """
    old, old_url = await start_fake("cohere")
    _, new_url = await start_fake("jina")
    client = await start_gateway(single("old", "cohere", old_url))
    reloader = reloader_for(client, write_config(tmp_path / "config.yaml", single("new", "jina", new_url)))
    data = post("/v1/rerank", SEED, headers=[("x-request-id", "late")])
    async with await Conn.open(port_of(client)) as conn, await Conn.open(port_of(client)) as other:
        await conn.send(data[:-5])  # the head and most of the body
        await other.send(post("/v1/rerank", SEED))  # answered once the loop has read what came before it
        assert (await other.reply()).status == 200
        assert await reloader.reload("test")
        await reloader.aclose()  # the old config is retired: nothing counted against it is in flight
        await conn.send(data[-5:])
        reply = await conn.reply()
    assert (reply.status, reply.header("x-request-id"), reply.header("x-rerank-provider")) == (200, "late", "new")
    assert old.calls == 1


async def test_invalid_config_is_rejected_and_the_old_one_kept(
    start_gateway: StartGateway, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A config naming an unknown provider is refused with its problems logged; the old config still serves."""
    client = await start_gateway({"providers": {"l": {"type": "local"}}, "models": {"m": model(("l", "bm25"))}})
    broken = {"providers": {"l": {"type": "local"}}, "models": {"m": model(("ghost", "x"))}}
    reloader = reloader_for(client, write_config(tmp_path / "config.yaml", broken))
    caplog.set_level(logging.INFO)
    assert not await reloader.reload("test")
    resp = await client.post("/v1/rerank", json=SEED)
    assert (resp.status, resp.headers["x-rerank-provider"]) == (200, "l")
    [record] = [r for r in caplog.records if r.name == "gateway.reload"]
    assert record.levelname == "ERROR"
    assert vars(record)["problems"] == ["$.models.m.providers[0].provider: unknown provider 'ghost'"]


def stricter(name: str, dialect: str, url: str) -> dict[str, Any]:
    """`single(name)` with stricter breakers, no hedges, and a second provider `q` (its pool has limit 13)."""
    config = single(name, dialect, url)
    config["providers"][name]["max_retries"] = 0
    config["providers"]["q"] = {"type": "cohere", "base_url": url, "max_connections": 13}
    config["models"]["n"] = model(("q", "x"))
    return {**config, "resilience": {"breaker": {"failures": 1}, "max_hedges": 0}}


async def test_a_reload_that_fails_to_start_changes_nothing_and_closes_what_it_opened(
    start_fake: StartFake, start_gateway: StartGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new provider failing to start leaves breaker and hedge settings as they were, and closes the pools opened."""
    _, url = await start_fake("cohere", default=status(500))
    client = await start_gateway({**single("p", "cohere", url), "resilience": {"max_hedges": 7}})
    live = client.app[LIVE].current
    reloader = reloader_for(client, write_config(tmp_path / "config.yaml", stricter("p", "cohere", url)))
    opened: list[Pool] = []
    real = Pool

    def connections(**kwargs: Any) -> Pool:
        if kwargs.get("limit") == 13:  # provider q: the process has run out of file descriptors
            raise OSError(24, "Too many open files")
        opened.append(real(**kwargs))
        return opened[-1]

    with monkeypatch.context() as patch:
        patch.setattr("gateway.providers.http.Pool", connections)
        assert not await reloader.reload("test")
    assert client.app[LIVE].current is live
    [pool] = opened  # p's new pool was opened before q failed...
    assert pool.closed  # ...and closed again
    assert live.resilience.hedges.limit == 7
    assert (await client.post("/v1/rerank", json=SEED)).status == 502
    # One failure would open the breaker under the rejected config's `failures: 1`; the running config wants 5.
    assert (await live.resilience.breakers.view("p")).state.value == "closed"


async def test_a_reload_that_starts_puts_its_failover_settings_in_force(
    start_fake: StartFake, start_gateway: StartGateway, tmp_path: Path
) -> None:
    """Once the new config has started, its breaker and hedge settings are the ones requests run under."""
    _, url = await start_fake("cohere", default=status(500))
    client = await start_gateway({**single("p", "cohere", url), "resilience": {"max_hedges": 7}})
    reloader = reloader_for(client, write_config(tmp_path / "config.yaml", stricter("p", "cohere", url)))
    assert await reloader.reload("test")
    live = client.app[LIVE].current
    assert live.resilience.hedges.limit == 0
    assert (await client.post("/v1/rerank", json=SEED)).status == 502
    assert (await live.resilience.breakers.view("p")).state.value == "open"
    await reloader.aclose()


async def test_settings_read_once_at_start_are_named_on_every_reload_that_changes_them(
    start_gateway: StartGateway, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Switching `state` to Redis or changing `cache.ttl` keeps the running state, with a warning on each reload."""
    base = {"providers": {"l": {"type": "local"}}, "models": {"m": model(("l", "bm25"))}}
    client = await start_gateway(base)
    state = client.app[LIVE].current.state
    redis = {"backend": "redis", "redis": {"url": "redis://127.0.0.1:1/0"}}
    reloader = reloader_for(
        client, write_config(tmp_path / "config.yaml", {**base, "state": redis, "cache": {"ttl": 5}})
    )
    caplog.set_level(logging.INFO)
    for _ in range(2):  # the second reload changes nothing more, but the file still differs from what runs
        caplog.clear()
        assert await reloader.reload("test")
        [warning] = [r for r in caplog.records if "after a restart" in r.getMessage()]
        assert (warning.name, warning.levelname) == ("gateway.reload", "WARNING")
        assert vars(warning)["settings"] == ["state.backend", "state.redis", "cache.ttl"]
    assert client.app[LIVE].current.state is state
    assert (await client.post("/v1/rerank", json=SEED)).status == 200
    await reloader.aclose()


async def test_no_request_fails_during_reloads_under_load(
    start_fake: StartFake, start_gateway: StartGateway, tmp_path: Path
) -> None:
    """Clients hammering the gateway while it reloads back and forth between two configs all get 200."""
    _, a_url = await start_fake("cohere", default=ok(delay=0.02))
    _, b_url = await start_fake("jina", default=ok(delay=0.02))
    configs = [single("a", "cohere", a_url), single("b", "jina", b_url)]
    client = await start_gateway(configs[0])
    path = tmp_path / "config.yaml"
    reloader = reloader_for(client, path)
    results: list[tuple[int, str]] = []

    async def hammer() -> None:
        for _ in range(30):
            resp = await client.post("/v1/rerank", json=SEED)
            results.append((resp.status, resp.headers.get("x-rerank-provider", "-")))

    clients = [asyncio.create_task(hammer()) for _ in range(6)]
    for i in range(6):
        await asyncio.sleep(0.05)
        write_config(path, configs[(i + 1) % 2])
        assert await reloader.reload("test")
    await asyncio.gather(*clients)
    await reloader.aclose()
    assert {status for status, _ in results} == {200}
    assert {provider for _, provider in results} == {"a", "b"}


async def test_a_configmap_symlink_swap_is_noticed(tmp_path: Path) -> None:
    """Swapping `..data` changes the file's stamp and wakes the watcher, though the path's own link is unchanged."""
    configmap(tmp_path, "v1", {"models": {}})
    path = str(tmp_path / "config.yaml")
    before = stamp(path)
    changed = asyncio.Event()

    async def on_change(reason: str) -> bool:
        changed.set()
        return True

    watcher = asyncio.create_task(watch(path, interval=0.01, on_change=on_change))
    await asyncio.sleep(0.05)
    assert not changed.is_set()
    configmap(tmp_path, "v2", {"models": {}})
    await asyncio.wait_for(changed.wait(), 10)
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    assert stamp(path) != before
    assert orjson.loads((tmp_path / "config.yaml").read_bytes()) == {"models": {}}
