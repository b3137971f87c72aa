"""In-process state: the default backend, and the local fallback while Redis is unreachable."""

from __future__ import annotations

import operator
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence

import attrs

from gateway.state.base import Charge

Clock = Callable[[], float]
_EXPIRES = operator.itemgetter(0)
_SCORE = operator.itemgetter(1)


@attrs.define
class MemoryScores:
    """An LRU of scores with a TTL, bounded by `max_entries`."""

    ttl: float
    max_entries: int
    clock: Clock = time.monotonic
    _data: OrderedDict[str, tuple[float, float]] = attrs.field(factory=OrderedDict, init=False)

    async def get(self, keys: Sequence[str]) -> list[float | None]:
        now = self.clock()
        data = self._data
        items = list(map(data.get, keys))
        if None not in items and all(map(now.__lt__, map(_EXPIRES, items))):  # type: ignore[arg-type]
            # All present and fresh (a repeated request): no Python code per key.
            deque(map(data.move_to_end, keys), maxlen=0)
            return list(map(_SCORE, items))  # type: ignore[arg-type]
        found: list[float | None] = []
        for key, item in zip(keys, items, strict=True):
            if item is not None and item[0] > now:
                data.move_to_end(key)
                found.append(item[1])
                continue
            if item is not None:
                data.pop(key, None)  # expired (a key asked twice is gone the second time)
            found.append(None)
        return found

    async def put(self, scores: Mapping[str, float]) -> None:
        expires = self.clock() + self.ttl
        for key, score in scores.items():
            self._data[key] = (expires, score)
            self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


@attrs.define
class MemoryQuotas:
    """Fixed-window counters in this process; one entry per counter key, so bounded by the config."""

    clock: Clock = time.monotonic
    _windows: dict[str, tuple[int, float]] = attrs.field(factory=dict, init=False)

    async def take(self, charges: Sequence[Charge], *, window: float) -> float | None:
        now = self.clock()
        current = {c.key: self._current(c.key, now, window) for c in charges}
        waits = [current[c.key][1] - now for c in charges if current[c.key][0] + c.cost > c.limit]
        if waits:
            return max(waits)
        for c in charges:
            used, ends = current[c.key]
            self._windows[c.key] = (used + c.cost, ends)
        return None

    def _current(self, key: str, now: float, window: float) -> tuple[int, float]:
        used, ends = self._windows.get(key, (0, 0.0))
        return (used, ends) if ends > now else (0, now + window)


@attrs.define
class MemoryCooldowns:
    """Cool-down deadlines by provider name, on this process's monotonic clock."""

    clock: Clock = time.monotonic
    _until: dict[str, float] = attrs.field(factory=dict, init=False)

    async def mark(self, provider: str, *, seconds: float) -> None:
        until = self.clock() + seconds
        self._until[provider] = max(until, self._until.get(provider, 0.0))

    async def remaining(self, provider: str) -> float:
        until = self._until.get(provider)
        if until is None:
            return 0.0
        left = until - self.clock()
        if left <= 0:
            del self._until[provider]
            return 0.0
        return left
