"""A rolling window of counters in fixed buckets, on an injected clock."""

from __future__ import annotations

from collections import deque

import attrs


@attrs.define
class Rolling:
    """Counts of named events over the last `span` seconds, kept in `buckets` slices.

    Old slices fall off as the clock moves, so memory stays constant under any load.
    """

    span: float
    buckets: int = 10
    _slices: deque[tuple[int, dict[str, float]]] = attrs.field(factory=deque)

    def add(self, now: float, name: str, amount: float = 1.0) -> None:
        """Count `amount` of `name` at time `now`."""
        slot = self._slot(now)
        slices = self._slices
        if slices and slices[-1][0] == slot:
            # The usual case, several events in one slice: that slice's add already expired what
            # this slot makes old, and nothing was added since.
            counts = slices[-1][1]
            counts[name] = counts.get(name, 0.0) + amount
            return
        slices.append((slot, {name: float(amount)}))
        self._expire(slot)

    def total(self, now: float, name: str) -> float:
        """The sum of `name` within the window ending at `now`."""
        self._expire(self._slot(now))
        return sum(counts.get(name, 0.0) for _, counts in self._slices)

    def clear(self) -> None:
        """Forget everything counted so far."""
        self._slices.clear()

    def _slot(self, now: float) -> int:
        return int(now // (self.span / self.buckets))

    def _expire(self, slot: int) -> None:
        while self._slices and self._slices[0][0] <= slot - self.buckets:
            self._slices.popleft()
