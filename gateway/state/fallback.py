"""Redis with a local safety net: no request fails because Redis is slow or down.

`Health` runs every Redis command under a short timeout. The first failure switches the process
to local state, logs one line and counts it; a background task pings Redis until it answers
again and then switches back. The `Shared*` stores put local memory and Redis together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

import attrs
from redis.exceptions import RedisError

from gateway.state.base import Charge
from gateway.state.counters import Counters
from gateway.state.memory import MemoryCooldowns, MemoryQuotas, MemoryScores
from gateway.state.redis import RedisCooldowns, RedisLink, RedisQuotas, RedisScores

T = TypeVar("T")
log = logging.getLogger("gateway.state")

#: What a Redis outage looks like from here: the client's errors, socket errors, our own timeout.
_FAILURES = (RedisError, OSError, TimeoutError)


@attrs.define
class Health:
    """Whether this process uses Redis right now, and the switch to local state and back."""

    link: RedisLink
    counters: Counters
    up: bool = False
    _recheck: asyncio.Task[None] | None = attrs.field(default=None, init=False)

    async def start(self) -> None:
        """Open the pool and ping once; an unreachable Redis is not fatal, only logged."""
        await self.link.start()
        try:
            async with asyncio.timeout(self.link.config.connect_timeout + self.link.config.timeout):
                await self.link.client.ping()
        except _FAILURES as exc:
            self._lost(exc)
            return
        self._back()

    async def close(self) -> None:
        if self._recheck is not None:
            self._recheck.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recheck
        await self.link.close()

    async def call(self, op: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]) -> T:
        """`op` against Redis within the timeout; `fallback` (local state) if Redis is down or fails."""
        if not self.up:
            return await fallback()
        try:
            async with asyncio.timeout(self.link.config.timeout):
                return await op()
        except _FAILURES as exc:
            self._lost(exc)
            return await fallback()

    def _lost(self, exc: BaseException) -> None:
        self.counters.redis_errors += 1
        if self._recheck is None or self._recheck.done():
            # Only the first failure of an outage switches, logs and counts a fallback.
            self.up = False
            self.counters.redis_up = 0
            self.counters.redis_fallbacks += 1
            log.warning(
                "redis unavailable: serving on local state until it is back",
                extra={"error": type(exc).__name__, "recheck_interval": self.link.config.recheck_interval},
            )
            self._recheck = asyncio.get_running_loop().create_task(self._wait_for_redis())

    def _back(self) -> None:
        self.up = True
        self.counters.redis_up = 1

    async def _wait_for_redis(self) -> None:
        config = self.link.config
        while True:
            await asyncio.sleep(config.recheck_interval)
            try:
                async with asyncio.timeout(config.connect_timeout + config.timeout):
                    await self.link.client.ping()
            except _FAILURES:
                continue
            # Pooled connections from before the outage may be dead sockets: drop them all, or the
            # first commands on them would fail and switch back to local state at once.
            await self.link.client.connection_pool.disconnect()
            self._back()
            log.info("redis reachable again: shared state in use")
            return


@attrs.define
class SharedScores:
    """Local memory in front of Redis: reads local first, writes both; local alone while Redis is down."""

    local: MemoryScores
    remote: RedisScores
    health: Health

    async def get(self, keys: Sequence[str]) -> list[float | None]:
        found = await self.local.get(keys)
        missing = [k for k, v in zip(keys, found, strict=True) if v is None]
        if not missing:
            return found

        async def none() -> list[float | None]:
            return [None] * len(missing)

        remote = dict(zip(missing, await self.health.call(lambda: self.remote.get(missing), none), strict=True))
        hits = {k: v for k, v in remote.items() if v is not None}
        await self.local.put(hits)
        return [v if v is not None else hits.get(k) for k, v in zip(keys, found, strict=True)]

    async def put(self, scores: Mapping[str, float]) -> None:
        await self.local.put(scores)
        await self.health.call(lambda: self.remote.put(scores), _nothing)


@attrs.define
class SharedQuotas:
    """Counters in Redis; while Redis is down, per-process counters (each replica allows the full quota)."""

    local: MemoryQuotas
    remote: RedisQuotas
    health: Health

    async def take(self, charges: Sequence[Charge], *, window: float) -> float | None:
        return await self.health.call(
            lambda: self.remote.take(charges, window=window), lambda: self.local.take(charges, window=window)
        )


@attrs.define
class SharedCooldowns:
    """Cool-downs written to both; read locally first, then from Redis (and remembered locally)."""

    local: MemoryCooldowns
    remote: RedisCooldowns
    health: Health

    async def mark(self, provider: str, *, seconds: float) -> None:
        await self.local.mark(provider, seconds=seconds)
        await self.health.call(lambda: self.remote.mark(provider, seconds=seconds), _nothing)

    async def remaining(self, provider: str) -> float:
        left = await self.local.remaining(provider)
        if left > 0:
            return left

        async def zero() -> float:
            return 0.0

        left = await self.health.call(lambda: self.remote.remaining(provider), zero)
        if left > 0:
            await self.local.mark(provider, seconds=left)
        return left


async def _nothing() -> None:
    return None
