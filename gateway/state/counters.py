"""Counts kept by the shared-state layer; the metrics layer reads them through `snapshot()`."""

from __future__ import annotations

import attrs


@attrs.define
class Counters:
    """Monotonic counters (and one gauge, `redis_up`) for one process."""

    #: Requests answered wholly from the cache, partly, or not at all (cacheable requests only).
    cache_hit: int = 0
    cache_partial: int = 0
    cache_miss: int = 0
    #: Documents whose score came from the cache, and documents sent upstream by cacheable requests.
    cache_documents_cached: int = 0
    cache_documents_upstream: int = 0
    #: Redis commands that failed or timed out, and times the gateway switched to local state.
    redis_errors: int = 0
    redis_fallbacks: int = 0
    #: 1 while Redis is in use, 0 while the gateway serves on local state (or has no Redis).
    redis_up: int = 0

    def snapshot(self) -> dict[str, int]:
        """Every counter by name, e.g. for a Prometheus collector at scrape time."""
        return attrs.asdict(self)
