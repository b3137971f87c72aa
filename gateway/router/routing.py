"""The order in which one request tries a model's providers: tiers by priority, weights within a tier."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import Protocol, TypeVar


class Weighted(Protocol):
    """Anything with a tier and a weight (a Step)."""

    @property
    def priority(self) -> int: ...

    @property
    def weight(self) -> float: ...


T = TypeVar("T", bound=Weighted)


def order(steps: Sequence[T], rng: random.Random) -> list[T]:
    """Lower priorities first; within a tier, a weighted random order, so the first pick follows the weights.

    Each tier is shuffled by Efraimidis-Spirakis keys (u ** (1 / weight)): sorting by them is a
    weighted draw without replacement, so the second choice also follows the weights.
    A tier of one entry keeps its place, so plain lists keep their strict order.
    """
    out: list[T] = []
    ranked = sorted(steps, key=lambda s: s.priority)
    for _, tier_iter in itertools.groupby(ranked, key=lambda s: s.priority):
        tier = list(tier_iter)
        if len(tier) > 1:
            tier.sort(key=lambda s: rng.random() ** (1.0 / s.weight), reverse=True)
        out.extend(tier)
    return out
