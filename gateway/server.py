"""One serving process: listen, reload on SIGHUP or file change, drain on SIGTERM, exit 0.

The shutdown order follows aiohttp's graceful-shutdown guide, with a pre-stop delay in front:
readiness fails at once, the gateway keeps serving for `server.pre_stop_delay` seconds so load
balancers stop sending, then `AppRunner.cleanup()` closes the listening socket, closes idle
keep-alive connections, waits up to `server.drain_timeout` for in-flight requests, and runs the
cleanup contexts (providers' sessions).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable

import attrs
from aiohttp import web

from gateway import malloc
from gateway.app import create_app
from gateway.config import Config, ServerConfig
from gateway.reload import Reloader, watch
from gateway.web.fastlane import Runner
from gateway.web.keys import LIVE, METRICS

log = logging.getLogger("gateway")
#: Allocations between collections of the young generation (CPython's default is 700).
GC_YOUNG_THRESHOLD = 50_000
Task = asyncio.Task[None]


@attrs.frozen(kw_only=True)
class Listen:
    """Where and how to listen; `reuse_port` lets several worker processes share the port."""

    host: str
    port: int
    reuse_port: bool = False


async def serve(config: Config, *, path: str, listen: Listen, log_level_override: str | None = None) -> int:
    """Serve `config` until SIGTERM or SIGINT, then drain; returns the exit code."""
    app = create_app(config)
    runner = Runner(
        app,
        fast_lane=config.server.fast_lane,
        keepalive_timeout=config.server.keepalive_timeout,
        handler_cancellation=True,
        access_log=None,
        shutdown_timeout=config.server.drain_timeout,
    )
    await runner.setup()
    # Everything built so far (modules, config, routes) lives as long as the process: freeze it out of
    # the collector, so the full collections that requests trigger scan only what requests made.
    gc.collect()
    gc.freeze()
    # Requests free what they make by reference counting (a load leaves no cyclic garbage behind),
    # but at the default threshold of 700 allocations the collector ran every few requests and kept
    # promoting the objects of requests in flight, so full collections walked every document of
    # every request being served: about a tenth of the CPU of 1,000-document traffic. Collecting
    # the young generation every 50,000 allocations lets most of them die first.
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)
    reloader = Reloader(app[LIVE], app[METRICS], path, log_level_override=log_level_override)
    # Handlers before the `listening` line: a SIGTERM sent as soon as it shows must drain, not kill.
    stop = _on_signals(reloader)
    if not await _listen(runner, listen):
        return 1
    log.info("listening", extra={**_address(runner), "models": sorted(config.models), "config": path})
    interval = config.server.config_poll_interval
    watcher = asyncio.create_task(watch(path, interval=interval, on_change=reloader.reload)) if interval else None
    await stop.wait()
    # `server` settings are read once: a reload does not change how this process drains.
    await _drain(app, runner, config.server, watcher)
    await reloader.aclose()
    log.info("stopped")
    return 0


async def _listen(runner: web.AppRunner, listen: Listen) -> bool:
    site = web.TCPSite(runner, listen.host, listen.port, reuse_port=listen.reuse_port or None)
    try:
        await site.start()
    except OSError as exc:  # the address is taken or not ours: a log line, not a traceback
        log.error("cannot listen", extra={"host": listen.host, "port": listen.port, "error": exc.strerror})
        await runner.cleanup()
        return False
    return True


def _address(runner: web.AppRunner) -> dict[str, object]:
    host, port = runner.addresses[0][:2]
    return {"host": host, "port": port}


def _on_signals(reloader: Reloader) -> asyncio.Event:
    """SIGTERM and SIGINT set the returned event; SIGHUP reloads."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, _once(stop, "SIGTERM"))
    loop.add_signal_handler(signal.SIGINT, _once(stop, "SIGINT"))
    loop.add_signal_handler(signal.SIGHUP, reloader.trigger, "SIGHUP")
    return stop


async def _drain(app: web.Application, runner: web.AppRunner, settings: ServerConfig, watcher: Task | None) -> None:
    """Fail readiness, serve on for the pre-stop delay, then stop accepting and drain in-flight requests."""
    app[LIVE].draining = True
    log.info("draining", extra={"pre_stop_delay": settings.pre_stop_delay, "drain_timeout": settings.drain_timeout})
    await asyncio.sleep(settings.pre_stop_delay)
    if watcher is not None:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
    await runner.cleanup()


def _once(stop: asyncio.Event, name: str) -> Callable[[], None]:
    def handler() -> None:
        if not stop.is_set():
            log.info("shutdown requested", extra={"signal": name})
        stop.set()

    return handler


def run(config: Config, *, path: str, listen: Listen, log_level_override: str | None = None) -> int:
    """Run one serving process on its own event loop (uvloop where installed); returns the exit code."""
    malloc.tune()
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    try:
        import uvloop  # noqa: PLC0415 - optional speed-up, only where installed

        factory = uvloop.new_event_loop
    except ImportError:
        pass
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(serve(config, path=path, listen=listen, log_level_override=log_level_override))
