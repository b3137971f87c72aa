"""Counters and histograms for the per-request metrics, kept as plain numbers and exported at scrape.

prometheus_client's own metric objects take a lock and validate labels on every update, which
cost about 15 us per request here (several counters and two histograms per request). Every
update of these happens on the event loop's thread, so plain dict-of-numbers tallies are safe, and
they cost a dict lookup and an addition; `collect` turns them into metric families when Prometheus
scrapes, so the exposition format stays the library's.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

Labels = tuple[str, ...]


class Tally:
    """A counter per label set (exported with the `_total` suffix)."""

    def __init__(self, name: str, doc: str, labels: Sequence[str]) -> None:
        self.name, self.doc, self.labels = name, doc, list(labels)
        self.values: dict[Labels, float] = {}

    def inc(self, key: Labels, amount: float = 1) -> None:
        values = self.values
        values[key] = values.get(key, 0) + amount

    def family(self) -> Metric:
        family = CounterMetricFamily(self.name, self.doc, labels=self.labels)
        for key, value in self.values.items():
            family.add_metric(list(key), value)
        return family


class Spread:
    """A histogram per label set: counts per bucket (upper bounds inclusive, as Prometheus' `le`) and a sum."""

    def __init__(self, name: str, doc: str, labels: Sequence[str], *, buckets: Sequence[float]) -> None:
        self.name, self.doc, self.labels = name, doc, list(labels)
        self.bounds = sorted(buckets)
        self.counts: dict[Labels, list[int]] = {}
        self.sums: dict[Labels, float] = {}

    def observe(self, key: Labels, value: float) -> None:
        counts = self.counts.get(key)
        if counts is None:
            counts = self.counts[key] = [0] * (len(self.bounds) + 1)
            self.sums[key] = 0.0
        # The first bound >= value; past the last bound, the +Inf bucket.
        counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sums[key] += value

    def family(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.doc, labels=self.labels)
        for key, counts in self.counts.items():
            cumulative, buckets = 0, []
            for bound, count in zip([*map(_le, self.bounds), "+Inf"], counts, strict=True):
                cumulative += count
                buckets.append((bound, float(cumulative)))
            family.add_metric(list(key), buckets, self.sums[key])
        return family


def _le(bound: float) -> str:
    return repr(float(bound))


class Level:
    """A gauge without labels (the requests in flight)."""

    def __init__(self, name: str, doc: str) -> None:
        self.name, self.doc = name, doc
        self.value = 0

    def family(self) -> Metric:
        return GaugeMetricFamily(self.name, self.doc, value=self.value)


class TallyCollector(Collector):
    """Hands the tallies to a registry: read when Prometheus scrapes."""

    def __init__(self, *tallies: Tally | Spread | Level) -> None:
        self.tallies = tallies

    def collect(self) -> Iterator[Metric]:
        for tally in self.tallies:
            yield tally.family()
