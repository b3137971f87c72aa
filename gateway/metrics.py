"""Prometheus metrics: one registry per app, low-cardinality labels only (never a query or a key).

The edge calls these after each request, from the attempt records the router already keeps, so the
router and the providers stay unaware of metrics. A circuit breaker reports its state changes through
`Metrics.breaker_changed` (pass the bound method to it as a plain callback).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Protocol

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.model import SKIPPED, Attempt, Usage
from gateway.tally import Level, Spread, Tally, TallyCollector

#: `_created` series double the output and nobody here reads them.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in the library

PREFIX = "rerank_gateway"
#: Seconds: from a cached local answer to a slow upstream at the default 30 s deadline.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: Breaker states as gauge values, so a graph shows trouble going up.
BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}

#: What a circuit breaker calls when a provider's state changes: (provider, state).
BreakerListener = Callable[[str, str], None]


class Metrics:
    """Every gateway metric, registered in a registry of its own (many apps can live in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # The per-request series: plain tallies (see gateway/tally.py), exported at scrape time.
        self.requests = Tally(
            f"{PREFIX}_requests",
            "Client requests by model, client dialect and HTTP status.",
            ["model", "dialect", "status"],
        )
        self.request_seconds = Spread(
            f"{PREFIX}_request_duration_seconds",
            "Time to answer a client request.",
            ["model", "dialect"],
            buckets=LATENCY_BUCKETS,
        )
        self.in_flight = Level(f"{PREFIX}_in_flight_requests", "Client requests being handled now.")
        self.attempts = Tally(
            f"{PREFIX}_upstream_attempts",
            "Tries at an upstream provider, by outcome (ok, timeout, http_503, ...).",
            ["provider", "outcome"],
        )
        self.upstream_seconds = Spread(
            f"{PREFIX}_upstream_duration_seconds",
            "Time of one try at an upstream provider.",
            ["provider", "result"],
            buckets=LATENCY_BUCKETS,
        )
        self.fallbacks = Tally(
            f"{PREFIX}_fallbacks", "Moves from one provider to the next within a client request.", ["model"]
        )
        self.breaker = Gauge(
            f"{PREFIX}_provider_breaker_state",
            "Circuit breaker state per provider: 0 closed, 1 half-open, 2 open.",
            ["provider"],
            registry=r,
        )
        self.documents = Tally(f"{PREFIX}_documents", "Documents ranked, by the provider that answered.", ["provider"])
        self.tokens = Tally(f"{PREFIX}_upstream_tokens", "Input tokens the answering provider reported.", ["provider"])
        self.search_units = Tally(
            f"{PREFIX}_upstream_search_units", "Search units the answering provider billed.", ["provider"]
        )
        self.fast_lane_handovers = Tally(
            f"{PREFIX}_fast_lane_handovers",
            "Client connections handed from the fast lane to aiohttp's server, by why (what the request was).",
            ["reason"],
        )
        r.register(
            TallyCollector(
                self.requests,
                self.request_seconds,
                self.in_flight,
                self.attempts,
                self.upstream_seconds,
                self.fallbacks,
                self.documents,
                self.tokens,
                self.search_units,
                self.fast_lane_handovers,
            )
        )
        self.reloads = Counter(
            f"{PREFIX}_config_reloads", "Config reloads by result (ok, rejected).", ["result"], registry=r
        )
        #: The providers the breaker gauge has a series for: the enabled ones of the running config.
        self._breaker_providers: set[str] = set()

    def watch_state(self, snapshot: Callable[[], Mapping[str, int]]) -> None:
        """Expose the shared-state layer's counters (score cache, Redis), read at scrape time."""
        self.registry.register(StateCollector(snapshot))

    def watch_bytes_in_flight(self, room: Room) -> None:
        """Expose the client body bytes in flight and the requests waiting for room, read at scrape time."""
        self.registry.register(RoomCollector(room))

    def request_done(self, *, model: str, dialect: str, status: int, seconds: float) -> None:
        """Count one finished client request and its duration."""
        self.requests.inc((model, dialect, str(status)))
        self.request_seconds.observe((model, dialect), seconds)

    def attempts_made(self, attempts: Iterable[Attempt], *, model: str) -> None:
        """Count the tries behind one client request, and each move to another provider."""
        previous: str | None = None
        for a in attempts:
            self.attempts.inc((a.provider, a.outcome))
            if a.outcome not in SKIPPED:  # a provider passed over made no call to time
                result = "ok" if a.outcome == "ok" else "error"
                self.upstream_seconds.observe((a.provider, result), a.duration_ms / 1000)
            if previous is not None and a.provider != previous:
                self.fallbacks.inc((model,))
            previous = a.provider

    def answered(self, *, provider: str, documents: int, usage: Usage) -> None:
        """Count the documents and the usage of the provider that answered."""
        self.documents.inc((provider,), documents)
        if usage.input_tokens:
            self.tokens.inc((provider,), usage.input_tokens)
        if usage.search_units:
            self.search_units.inc((provider,), usage.search_units)

    def breaker_changed(self, provider: str, state: str) -> None:
        """Record a provider's new breaker state (`closed`, `half_open`, `open`) as a gauge.

        The breaker itself writes the JSON log line, with the reason.
        """
        # A provider a reload removed gets no series back, though requests still running on the old
        # config may move its breaker.
        if provider in self._breaker_providers:
            self.breaker.labels(provider).set(BREAKER_STATES[state])

    def breakers_configured(self, states: Mapping[str, str]) -> None:
        """Give the gauge a series for exactly these providers (provider -> state) and drop the others.

        Called at start and after each reload with the enabled providers, so a provider shows
        `closed` before its breaker first changes and a removed one stops showing its last state.
        """
        for provider in self._breaker_providers - set(states):
            self.breaker.remove(provider)
        self._breaker_providers = set(states)
        for provider, state in states.items():
            self.breaker.labels(provider).set(BREAKER_STATES[state])

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return prometheus_client.generate_latest(self.registry)


#: The Content-Type of `exposition()`.
CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST


class Room(Protocol):
    """What `limits.max_bytes_in_flight` accounting shows (gateway.web.inflight.BytesInFlight)."""

    @property
    def used(self) -> int: ...
    @property
    def waiting(self) -> int: ...
    @property
    def waited(self) -> int: ...


class RoomCollector(Collector):
    """The bytes of client bodies being served, and the requests that waited for room."""

    def __init__(self, room: Room) -> None:
        self.room = room

    def collect(self) -> Iterator[Metric]:
        room = self.room
        yield GaugeMetricFamily(
            f"{PREFIX}_request_bytes_in_flight", "Bytes of client request bodies being served now.", value=room.used
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_requests_waiting_for_room",
            "Requests waiting for room under limits.max_bytes_in_flight.",
            value=room.waiting,
        )
        yield CounterMetricFamily(
            f"{PREFIX}_requests_waited_for_room",
            "Requests that had to wait for room under limits.max_bytes_in_flight.",
            value=room.waited,
        )


class StateCollector(Collector):
    """The score cache's and Redis' counters, read from the state layer when Prometheus scrapes."""

    def __init__(self, snapshot: Callable[[], Mapping[str, int]]) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        s = self.snapshot()
        requests = CounterMetricFamily(
            f"{PREFIX}_cache_requests",
            "Cacheable requests by score-cache outcome (hit, partial, miss).",
            labels=["outcome"],
        )
        for outcome in ("hit", "partial", "miss"):
            requests.add_metric([outcome], s[f"cache_{outcome}"])
        documents = CounterMetricFamily(
            f"{PREFIX}_cache_documents",
            "Documents of cacheable requests, by where their score came from (cache, upstream).",
            labels=["source"],
        )
        documents.add_metric(["cache"], s["cache_documents_cached"])
        documents.add_metric(["upstream"], s["cache_documents_upstream"])
        yield requests
        yield documents
        yield CounterMetricFamily(
            f"{PREFIX}_redis_errors", "Redis commands that failed or timed out.", value=s["redis_errors"]
        )
        yield CounterMetricFamily(
            f"{PREFIX}_redis_fallbacks", "Switches from Redis to local state.", value=s["redis_fallbacks"]
        )
        yield GaugeMetricFamily(f"{PREFIX}_redis_up", "1 while shared state is in Redis, else 0.", value=s["redis_up"])
