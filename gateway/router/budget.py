"""The retry budget: process-wide, retries stay within a share of first attempts.

Like Finagle's RetryBudget and gRPC's retry throttling: every client request that calls an
upstream deposits `ratio` of a token (a score-cache hit calls none), every retry withdraws one,
both expire after `window` seconds, and a reserve of `min_per_second * window` tokens lets a
quiet gateway still retry. During an outage the load a struggling provider sees is at most
(1 + ratio) times the client traffic, not (1 + max_retries).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs

from gateway.config import RetryBudgetConfig
from gateway.router.window import Rolling


@attrs.define
class RetryBudget:
    """A token bucket of retries fed by first attempts."""

    settings: RetryBudgetConfig = attrs.field(factory=RetryBudgetConfig)
    clock: Callable[[], float] = time.monotonic
    _counts: Rolling = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._counts = Rolling(self.settings.window)

    def configure(self, settings: RetryBudgetConfig) -> None:
        """Take new settings; the counts start again only if the window changed."""
        if settings.window != self.settings.window:
            self._counts = Rolling(settings.window)
        self.settings = settings

    def deposit(self) -> None:
        """Count one client request's first upstream attempt."""
        self._counts.add(self.clock(), "requests")

    def try_withdraw(self) -> bool:
        """Take one retry from the budget; False when the budget is spent."""
        if self.balance() < 1.0:
            return False
        self._counts.add(self.clock(), "retries")
        return True

    def balance(self) -> float:
        """Retries still allowed now."""
        now = self.clock()
        s = self.settings
        reserve = s.min_per_second * s.window
        return reserve + s.ratio * self._counts.total(now, "requests") - self._counts.total(now, "retries")
