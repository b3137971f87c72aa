"""The state stores, memory and Redis alike: scores, fixed-window quotas and cool-downs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import attrs
import pytest

from gateway.state import Charge
from gateway.state.memory import MemoryCooldowns, MemoryQuotas, MemoryScores
from gateway.state.redis import RedisCooldowns, RedisLink, RedisQuotas, RedisScores
from gateway.state.settings import RedisConfig
from tests.procs import RedisServer


@attrs.define
class Clock:
    """A clock the test moves by hand."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@attrs.frozen
class Stores:
    """One backend's three stores."""

    scores: MemoryScores | RedisScores
    quotas: MemoryQuotas | RedisQuotas
    cooldowns: MemoryCooldowns | RedisCooldowns


@pytest.fixture(params=["memory", "redis"])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    """The stores of each backend; the Redis ones talk to a real redis-server."""
    if request.param == "memory":
        yield Stores(MemoryScores(ttl=60, max_entries=100), MemoryQuotas(), MemoryCooldowns())
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    link = RedisLink(RedisConfig(url=server.url, key_prefix="t:"))
    await link.start()
    yield Stores(RedisScores(link, ttl=60), RedisQuotas(link), RedisCooldowns(link))
    await link.close()


async def test_scores_round_trip_exactly(stores: Stores) -> None:
    """Stored scores come back bit for bit; unknown keys come back as None."""
    scores = {"a" * 64: 0.1 + 0.2, "b" * 64: 1e-300, "c" * 64: -3.5}
    await stores.scores.put(scores)
    assert await stores.scores.get(["c" * 64, "d" * 64, "a" * 64, "b" * 64]) == [-3.5, None, 0.1 + 0.2, 1e-300]
    assert await stores.scores.get([]) == []


async def test_quota_refuses_past_the_limit_and_charges_nothing_when_refusing(stores: Stores) -> None:
    """Two counters are charged together; a refusal names the wait and leaves both counters as they were."""
    requests, documents = Charge(key="k:r", cost=1, limit=3), Charge(key="k:d", cost=4, limit=10)
    assert await stores.quotas.take([requests, documents], window=60) is None
    assert await stores.quotas.take([requests, documents], window=60) is None
    wait = await stores.quotas.take([requests, documents], window=60)  # 12 documents > 10
    assert wait is not None
    assert 0 < wait <= 60
    # The refused request used up nothing: 2 documents still fit, and one request is left.
    assert await stores.quotas.take([requests, attrs.evolve(documents, cost=2)], window=60) is None
    assert await stores.quotas.take([requests], window=60) is not None
    assert await stores.quotas.take([Charge(key="other:r", cost=1, limit=1)], window=60) is None


async def test_cooldown_is_kept_until_it_ends_and_never_shortened(stores: Stores) -> None:
    """A cool-down reports the time left; a shorter mark does not cut a longer one short."""
    assert await stores.cooldowns.remaining("p") == 0.0
    await stores.cooldowns.mark("p", seconds=30)
    await stores.cooldowns.mark("p", seconds=1)
    left = await stores.cooldowns.remaining("p")
    assert 1 < left <= 30
    assert await stores.cooldowns.remaining("q") == 0.0


async def test_memory_scores_expire_and_evict_the_least_recently_used() -> None:
    """The memory cache drops entries after the TTL and keeps at most max_entries, oldest use first."""
    clock = Clock()
    scores = MemoryScores(ttl=10, max_entries=2, clock=clock)
    await scores.put({"a": 1.0, "b": 2.0})
    assert await scores.get(["a"]) == [1.0]  # "a" is now the most recently used
    await scores.put({"c": 3.0})
    assert await scores.get(["a", "b", "c"]) == [1.0, None, 3.0]
    clock.now += 10
    assert await scores.get(["a", "c"]) == [None, None]
    assert len(scores) == 0


async def test_memory_quota_window_resets_after_a_minute() -> None:
    """A full window refuses until it ends, with the exact time left, then counts from zero again."""
    clock = Clock()
    quotas = MemoryQuotas(clock=clock)
    charge = Charge(key="k:r", cost=1, limit=1)
    assert await quotas.take([charge], window=60) is None
    clock.now += 45
    assert await quotas.take([charge], window=60) == 15
    clock.now += 15
    assert await quotas.take([charge], window=60) is None


async def test_memory_cooldown_ends() -> None:
    """A memory cool-down is over once its time has passed."""
    clock = Clock()
    cooldowns = MemoryCooldowns(clock=clock)
    await cooldowns.mark("p", seconds=5)
    clock.now += 4
    assert await cooldowns.remaining("p") == 1
    clock.now += 1
    assert await cooldowns.remaining("p") == 0.0


async def test_redis_entries_carry_their_ttl(redis_server: RedisServer) -> None:
    """In Redis, scores expire after the cache TTL, quota counters after the window, cool-downs when they end."""
    link = RedisLink(RedisConfig(url=redis_server.url, key_prefix="t:"))
    await link.start()
    try:
        await RedisScores(link, ttl=120).put({"f" * 64: 0.5})
        await RedisQuotas(link).take([Charge(key="k:r", cost=1, limit=5)], window=60)
        await RedisCooldowns(link).mark("p", seconds=7)
        client = link.client
        assert 0 < await client.pttl("t:score:" + "f" * 64) <= 120_000
        assert 0 < await client.pttl("t:quota:k:r") <= 60_000
        assert 0 < await client.pttl("t:cooldown:p") <= 7_000
    finally:
        await link.close()
