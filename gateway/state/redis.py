"""Shared state in Redis: one client (one connection pool) per process, and the stores that use it.

These stores raise on any Redis trouble; `fallback.py` decides what the gateway does then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.state.base import Charge
from gateway.state.settings import RedisConfig

#: Check every counter first and charge only if all fit, so a refused request uses up nothing.
#: KEYS: the counters; ARGV: window in ms, then (cost, limit) per counter. Returns ms to wait, or 0.
_TAKE = """
local window = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local cost, limit = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  if tonumber(redis.call('GET', key) or '0') + cost > limit then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then ttl = window end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('INCRBY', key, tonumber(ARGV[2 * i]))
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, window) end
end
return 0
"""

#: Set a cool-down unless a longer one is already running. KEYS[1]: the provider; ARGV[1]: ms.
_MARK = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""


@attrs.define
class RedisLink:
    """The process's Redis client; `start` opens its pool (in a cleanup context), `close` releases it."""

    config: RedisConfig
    _client: Redis | None = attrs.field(default=None, init=False)
    _scripts: dict[str, AsyncScript] = attrs.field(factory=dict, init=False)

    async def start(self) -> None:
        c = self.config
        pool = BlockingConnectionPool.from_url(
            c.url,
            max_connections=c.max_connections,
            timeout=c.timeout,  # waiting for a free connection counts against the same budget
            socket_timeout=c.timeout,
            socket_connect_timeout=c.connect_timeout,
            # No client-side retries: a failed command falls back to local state at once.
            retry=Retry(NoBackoff(), 0),
        )
        self._client = Redis(connection_pool=pool)
        self._scripts.clear()

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
            await client.connection_pool.disconnect()

    @property
    def client(self) -> Redis:
        if self._client is None:
            raise RedisConnectionError("the Redis client is not started")
        return self._client

    def script(self, source: str) -> AsyncScript:
        """A Lua script run by its SHA (EVALSHA); it is loaded again if Redis has forgotten it."""
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self.client.register_script(source)
        return script

    def key(self, *parts: str) -> str:
        """A Redis key under the configured prefix."""
        return self.config.key_prefix + ":".join(parts)


@attrs.define
class RedisScores:
    """Scores as plain string values with a TTL, one key per score (MGET / pipelined SET PX)."""

    link: RedisLink
    ttl: float

    async def get(self, keys: Sequence[str]) -> list[float | None]:
        if not keys:
            return []
        values: list[Any] = await self.link.client.mget([self.link.key("score", k) for k in keys])
        return [None if v is None else float(v) for v in values]

    async def put(self, scores: Mapping[str, float]) -> None:
        if not scores:
            return
        ms = max(1, int(self.ttl * 1000))
        async with self.link.client.pipeline(transaction=False) as pipe:
            for key, score in scores.items():
                pipe.set(self.link.key("score", key), repr(score), px=ms)
            await pipe.execute()


@attrs.define
class RedisQuotas:
    """Fixed-window counters shared by every replica, checked and charged in one Lua script."""

    link: RedisLink

    async def take(self, charges: Sequence[Charge], *, window: float) -> float | None:
        keys = [self.link.key("quota", c.key) for c in charges]
        args: list[int] = [max(1, int(window * 1000))]
        for c in charges:
            args.extend((c.cost, c.limit))
        wait_ms = int(await self.link.script(_TAKE)(keys=keys, args=args))
        return wait_ms / 1000 if wait_ms > 0 else None


@attrs.define
class RedisCooldowns:
    """Cool-downs as keys that expire when the cool-down ends."""

    link: RedisLink

    async def mark(self, provider: str, *, seconds: float) -> None:
        ms = int(seconds * 1000)
        if ms > 0:
            await self.link.script(_MARK)(keys=[self.link.key("cooldown", provider)], args=[ms])

    async def remaining(self, provider: str) -> float:
        ms = int(await self.link.client.pttl(self.link.key("cooldown", provider)))
        return ms / 1000 if ms > 0 else 0.0
