"""A fake clock for breaker, budget and backoff tests: time moves only when a test moves it."""

from __future__ import annotations

import attrs


@attrs.define
class FakeClock:
    """A monotonic clock a test advances by hand; `sleep` advances it instead of waiting."""

    now: float = 1000.0
    sleeps: list[float] = attrs.field(factory=list)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        """Record the wait and move time forward by it, at once."""
        self.sleeps.append(seconds)
        self.now += seconds
