"""The lock-free tallies behind the per-request metrics, read back through the Prometheus text parser."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gateway.tally import Level, Spread, Tally, TallyCollector


def samples(*tallies: Tally | Spread | Level) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every exported sample of these tallies, keyed by name and label set."""
    registry = CollectorRegistry()
    registry.register(TallyCollector(*tallies))
    text = generate_latest(registry).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_histogram_buckets_are_cumulative_and_inclusive() -> None:
    """A value equal to a bound lands in that bound's bucket; buckets count everything at or below them."""
    spread = Spread("t_seconds", "test", ["k"], buckets=(0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 7.0):
        spread.observe(("a",), value)
    got = samples(spread)
    assert got[("t_seconds_bucket", frozenset({("k", "a"), ("le", "0.1")}))] == 2
    assert got[("t_seconds_bucket", frozenset({("k", "a"), ("le", "1.0")}))] == 3
    assert got[("t_seconds_bucket", frozenset({("k", "a"), ("le", "+Inf")}))] == 4
    assert got[("t_seconds_count", frozenset({("k", "a")}))] == 4
    assert abs(got[("t_seconds_sum", frozenset({("k", "a")}))] - 7.65) < 1e-9


def test_counters_and_gauge_keep_label_sets_apart() -> None:
    """Each label set counts on its own, with the `_total` suffix; the gauge shows its current value."""
    tally = Tally("t_things", "test", ["a", "b"])
    tally.inc(("x", "y"))
    tally.inc(("x", "y"), 2)
    tally.inc(("x", "z"))
    level = Level("t_level", "test")
    level.value += 3
    got = samples(tally, level)
    assert got[("t_things_total", frozenset({("a", "x"), ("b", "y")}))] == 3
    assert got[("t_things_total", frozenset({("a", "x"), ("b", "z")}))] == 1
    assert got[("t_level", frozenset())] == 3
