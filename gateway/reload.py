"""Config reload without restart: on SIGHUP and when the config file changes.

A new config is validated and its runtime started before it replaces the old one (or changes any
shared setting); an invalid config, or one whose providers fail to start, is logged and the old one
kept unchanged. Requests keep the runtime they started on; the old runtime is closed only once
every request that may use it has finished.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable

import attrs

from gateway import config as config_mod
from gateway import logs
from gateway import runtime as runtime_mod
from gateway.config import Config, ConfigError
from gateway.metrics import Metrics
from gateway.runtime import Runtime
from gateway.web.keys import Live

log = logging.getLogger("gateway.reload")


@attrs.define
class Reloader:
    """Reloads one config file into one app's `Live` holder."""

    live: Live
    metrics: Metrics
    path: str
    #: A `--log-level` given on the command line wins over the config's `log_level`.
    log_level_override: str | None = None
    _lock: asyncio.Lock = attrs.field(factory=asyncio.Lock)
    _tasks: set[asyncio.Task[object]] = attrs.field(factory=set)
    #: The config the process started with: what the settings read only once still come from.
    _boot: Config = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._boot = self.live.current.config

    async def reload(self, reason: str) -> bool:
        """Load, validate and swap in the config file; False (old config kept) when it is invalid."""
        async with self._lock:  # two triggers at once must not interleave their swaps
            try:
                config = config_mod.load(self.path)
            except ConfigError as exc:
                self.metrics.reloads.labels("rejected").inc()
                log.error(
                    "config reload rejected; keeping the running config",
                    extra={"reason": reason, "path": self.path, "problems": exc.problems},
                )
                return False
            try:
                new = runtime_mod.rebuild(self.live.current, config)
                await new.start()  # on failure it closes whatever it had opened
            except Exception:  # a valid config whose providers fail to start: keep serving the old one
                self.metrics.reloads.labels("rejected").inc()
                log.exception("config reload failed; keeping the running config", extra={"reason": reason})
                return False
            # Only now, with nothing left to fail, do the new breaker, budget and hedge settings replace
            # the running ones; no await between here and the swap, so no request sees one without the other.
            new.apply()
            old, generation = self.live.swap(new)
            self._keep(asyncio.create_task(self._retire(old, generation)))
            breakers = new.resilience.breakers
            self.metrics.breakers_configured({p: (await breakers.view(p)).state.value for p in new.providers})
        self._applied(config, reason=reason)
        return True

    def trigger(self, reason: str) -> None:
        """Start a reload from a signal handler (which cannot await)."""
        self._keep(asyncio.get_running_loop().create_task(self.reload(reason)))

    def _keep(self, task: asyncio.Task[object]) -> None:
        self._tasks.add(task)  # a reference until done, as asyncio asks; aclose waits for them
        task.add_done_callback(self._tasks.discard)

    async def _retire(self, old: Runtime, generation: int) -> None:
        await self.live.drained(generation)
        try:
            await old.close()
        except Exception:  # a failed close must not stop later reloads (logged with its type)
            log.exception("closing the previous config's providers failed")

    def _applied(self, config: Config, *, reason: str) -> None:
        self.metrics.reloads.labels("ok").inc()
        if self.log_level_override is None:
            logs.set_level(config.log_level)
        log.info(
            "config reloaded",
            extra={
                "reason": reason,
                "path": self.path,
                "generation": self.live.generation,
                "models": sorted(config.models),
            },
        )
        for warning in config.warnings:
            log.warning(warning)
        ignored = restart_only(config, self._boot)
        if ignored:
            log.warning(
                "changed settings that take effect only after a restart: " + ", ".join(ignored),
                extra={"settings": ignored},
            )

    async def aclose(self) -> None:
        """Wait for pending reloads and for old runtimes to close (their requests have drained by now)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def restart_only(config: Config, boot: Config) -> list[str]:
    """The settings read once at start that `config` sets differently from the config the process started with.

    The listener, the body-size cap and the shared state (Redis pool, score store) are built once
    per process; everything else (providers, models, auth, resilience, `cache.enabled`) reloads.
    """
    pairs = {
        "server": (config.server, boot.server),
        "limits.max_body_bytes": (config.limits.max_body_bytes, boot.limits.max_body_bytes),
        "state.backend": (config.state.backend, boot.state.backend),
        "state.redis": (config.state.redis, boot.state.redis),
        "cache.ttl": (config.cache.ttl, boot.cache.ttl),
        "cache.max_entries": (config.cache.max_entries, boot.cache.max_entries),
    }
    return [name for name, (new, old) in pairs.items() if new != old]


Stamp = tuple[str, int, int, int, int, int]


def stamp(path: str) -> Stamp | None:
    """What identifies the file's current content: where its symlinks lead, inodes, mtime, size.

    Kubernetes updates a mounted ConfigMap by pointing the `..data` symlink at a new directory,
    so the path's own stat never changes; following the links catches the swap.
    """
    try:
        link = os.lstat(path)
        target = os.stat(path)
    except OSError:
        return None
    return (os.path.realpath(path), link.st_ino, link.st_mtime_ns, target.st_ino, target.st_mtime_ns, target.st_size)


async def watch(path: str, *, interval: float, on_change: Callable[[str], Awaitable[bool]]) -> None:
    """Poll `path` every `interval` seconds and call `on_change` when it changes; runs until cancelled."""
    last = stamp(path)
    while True:
        await asyncio.sleep(interval)
        now = stamp(path)
        if now is not None and now != last:
            await on_change("file changed")
        if now is not None:
            last = now
