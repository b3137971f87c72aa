"""Shared state: quotas, cool-downs and cached scores, in this process (`memory`) or in Redis.

`build` makes a `State` from the config; `start` and `close` belong in a cleanup context.
With Redis, every store falls back to local memory while Redis is unreachable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from gateway.state.base import Charge, CooldownStore, QuotaStore, ScoreStore
from gateway.state.counters import Counters
from gateway.state.memory import MemoryCooldowns, MemoryQuotas, MemoryScores
from gateway.state.settings import CacheConfig, StateConfig

if TYPE_CHECKING:
    from gateway.state.fallback import Health


@attrs.define(kw_only=True)
class State:
    """The stores one process uses, the counters they keep, and the Redis link if there is one."""

    scores: ScoreStore
    quotas: QuotaStore
    cooldowns: CooldownStore
    counters: Counters
    health: Health | None = None

    @property
    def shared(self) -> bool:
        """Whether the stores are in Redis, shared with other replicas (else this process only)."""
        return self.health is not None

    async def start(self) -> None:
        if self.health is not None:
            await self.health.start()

    async def close(self) -> None:
        if self.health is not None:
            await self.health.close()


def build(state: StateConfig, cache: CacheConfig, *, clock: Callable[[], float] = time.monotonic) -> State:
    """The stores for a config: memory only, or Redis with a memory fallback.

    `clock` times the in-process cool-downs, so they run on the same (test-injectable) clock as
    the breakers.
    """
    counters = Counters()
    scores = MemoryScores(ttl=cache.ttl, max_entries=cache.max_entries)
    quotas, cooldowns = MemoryQuotas(), MemoryCooldowns(clock=clock)
    if state.backend == "memory" or state.redis is None:
        return State(scores=scores, quotas=quotas, cooldowns=cooldowns, counters=counters)
    # Imported here: the Redis client is some 6 MB of modules that a memory-backed process never uses.
    from gateway.state.fallback import Health, SharedCooldowns, SharedQuotas, SharedScores  # noqa: PLC0415
    from gateway.state.redis import RedisCooldowns, RedisLink, RedisQuotas, RedisScores  # noqa: PLC0415

    link = RedisLink(state.redis)
    health = Health(link, counters)
    return State(
        scores=SharedScores(scores, RedisScores(link, cache.ttl), health),
        quotas=SharedQuotas(quotas, RedisQuotas(link), health),
        cooldowns=SharedCooldowns(cooldowns, RedisCooldowns(link), health),
        counters=counters,
        health=health,
    )


def memory(cache: CacheConfig | None = None) -> State:
    """A process-local State, for runtimes built without an app (tests, tools)."""
    return build(StateConfig(), cache or CacheConfig())


__all__ = ["Charge", "CooldownStore", "Counters", "QuotaStore", "ScoreStore", "State", "build", "memory"]
