"""The router's final order: score descending, ties by index ascending, then cut to top_n."""

from __future__ import annotations

import random

from gateway.model import Ranked, sort_and_cut


def test_ties_keep_index_order_whatever_the_input_order() -> None:
    """Equal scores come out by ascending index, from any input order."""
    ranked = [Ranked(3, 0.5), Ranked(0, 0.5), Ranked(2, 0.9), Ranked(1, 0.5), Ranked(4, 0.1)]
    for seed in range(5):
        shuffled = ranked[:]
        random.Random(seed).shuffle(shuffled)
        assert [r.index for r in sort_and_cut(shuffled, None)] == [2, 0, 1, 3, 4]


def test_top_n_cuts_after_sorting() -> None:
    """top_n keeps the best n after the sort, not the first n given."""
    ranked = [Ranked(0, 0.1), Ranked(1, 0.7), Ranked(2, 0.7), Ranked(3, 0.9)]
    assert sort_and_cut(ranked, 2) == (Ranked(3, 0.9), Ranked(1, 0.7))


def test_matches_the_tuple_key_order_on_random_input() -> None:
    """On random scores with many ties the order equals sorting by (-score, index)."""
    rng = random.Random(7)
    ranked = [Ranked(i, rng.choice([0.0, 0.25, 0.5, 1.0, rng.random()])) for i in range(500)]
    rng.shuffle(ranked)
    expected = sorted(ranked, key=lambda r: (-r.score, r.index))
    assert list(sort_and_cut(list(ranked), None)) == expected
