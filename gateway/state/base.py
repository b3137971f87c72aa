"""What a state backend is: one small protocol per kind of shared state, and the values they use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import attrs


@attrs.frozen(kw_only=True)
class Charge:
    """One counter a request uses up: `cost` units of a budget of `limit` per window."""

    key: str
    cost: int
    limit: int


class ScoreStore(Protocol):
    """Cached scores by key (a sha256 hex digest); entries expire after the store's TTL."""

    async def get(self, keys: Sequence[str]) -> list[float | None]:
        """The score of each key, or None where none is cached."""

    async def put(self, scores: Mapping[str, float]) -> None:
        """Keep these scores for the store's TTL."""


class QuotaStore(Protocol):
    """Fixed-window counters; a window starts at the first charge to a counter."""

    async def take(self, charges: Sequence[Charge], *, window: float) -> float | None:
        """Charge every counter and return None if all stay within limits, else charge none.

        A refusal returns the seconds until the window of the counter that refused ends.
        """


class CooldownStore(Protocol):
    """Providers to skip until a time, learned from a Retry-After or (later) a breaker opening."""

    async def mark(self, provider: str, *, seconds: float) -> None:
        """Skip `provider` for the next `seconds`; a longer cool-down already set is kept."""

    async def remaining(self, provider: str) -> float:
        """Seconds left of `provider`'s cool-down; 0.0 when it may be tried."""
