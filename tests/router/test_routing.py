"""Tiers and weights: the order in which one request tries a model's providers."""

from __future__ import annotations

import random
from collections import Counter

from gateway.router import Step, routing
from tests.router.fakes import ScriptedProvider, step


def names(order: list[Step]) -> list[str]:
    """The provider names of an ordered list of steps."""
    return [s.provider.name for s in order]


async def test_plain_lists_keep_their_order() -> None:
    """Each entry in its own tier (its position): the order is always the list's."""
    steps = [step(ScriptedProvider(n), priority=i) for i, n in enumerate("abc")]
    rng = random.Random(1)
    assert all(names(routing.order(steps, rng)) == ["a", "b", "c"] for _ in range(50))


async def test_lower_tiers_come_last_whatever_the_weights() -> None:
    """A heavy entry in a lower tier never goes before a light one in a higher tier."""
    steps = [step(ScriptedProvider("low"), priority=1, weight=100), step(ScriptedProvider("high"), priority=0)]
    rng = random.Random(2)
    assert all(names(routing.order(steps, rng))[0] == "high" for _ in range(50))


async def test_weights_spread_the_first_pick() -> None:
    """Weights 3:1 in one tier give about 75% / 25% of first picks, and the other always follows."""
    steps = [step(ScriptedProvider("a"), priority=0, weight=3), step(ScriptedProvider("b"), priority=0, weight=1)]
    rng = random.Random(3)
    firsts = Counter(names(routing.order(steps, rng))[0] for _ in range(4000))
    assert 0.72 < firsts["a"] / 4000 < 0.78
    assert sorted(names(routing.order(steps, rng))) == ["a", "b"]


async def test_second_pick_follows_the_weights_of_those_left() -> None:
    """Weights 1:1:8: when "c" leads (80%), "a" and "b" share second place; "c" is rarely second."""
    steps = [step(ScriptedProvider(n), priority=0, weight=w) for n, w in (("a", 1), ("b", 1), ("c", 8))]
    rng = random.Random(4)
    orders = [names(routing.order(steps, rng)) for _ in range(4000)]
    assert all(sorted(o) == ["a", "b", "c"] for o in orders)
    second = Counter(o[1] for o in orders)
    # Exact shares: c second = 0.2 * 8/9 = 0.178; a second = 0.1 * 1/9 + 0.8 * 1/2 = 0.411.
    assert 0.15 < second["c"] / 4000 < 0.21
    assert 0.38 < second["a"] / 4000 < 0.44
