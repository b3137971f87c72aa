"""The `state` and `cache` config sections, and their checks (kept here so config.py stays small)."""

from __future__ import annotations

import re
from typing import Literal

import attrs

from gateway import redact


@attrs.frozen(kw_only=True)
class RedisConfig:
    """Where the shared state lives, and how long the gateway waits for it before going local."""

    url: str
    key_prefix: str = "rerank-gateway:"
    #: Seconds one Redis command may take before the gateway serves on local state instead.
    timeout: float = 0.25
    connect_timeout: float = 0.25
    #: Seconds between checks whether an unreachable Redis is back.
    recheck_interval: float = 2.0
    max_connections: int = 32


@attrs.frozen(kw_only=True)
class StateConfig:
    """Where quotas, cool-downs and cached scores live: this process (`memory`) or shared `redis`."""

    backend: Literal["memory", "redis"] = "memory"
    redis: RedisConfig | None = None
    #: Upper bound on a cool-down learned from a provider's Retry-After, in seconds.
    max_cooldown: float = 300.0


@attrs.frozen(kw_only=True)
class CacheConfig:
    """The score cache: (provider, upstream model, query, document) -> score, reused across requests."""

    enabled: bool = True
    #: Seconds a score is kept.
    ttl: float = 3600.0
    #: Scores kept in each process's memory; Redis is bounded by the TTL and its own maxmemory.
    max_entries: int = 100_000


def check(state: StateConfig, cache: CacheConfig) -> list[str]:
    """Checks across fields of the `state` and `cache` sections, as `$.path: message` lines."""
    problems: list[str] = []
    redis = state.redis
    if state.backend == "redis" and redis is None:
        problems.append("$.state.redis: required when `backend` is `redis` (at least `url`)")
    if redis is not None:
        if not re.match(r"^(rediss?|unix)://", redis.url):
            shown = redact.url(redis.url)  # a Redis URL often holds the password
            problems.append(f"$.state.redis.url: must be a redis://, rediss:// or unix:// URL, got {shown!r}")
        for field in ("timeout", "connect_timeout", "recheck_interval"):
            if getattr(redis, field) <= 0:
                problems.append(f"$.state.redis.{field}: must be greater than 0")
        if redis.max_connections < 1:
            problems.append("$.state.redis.max_connections: must be at least 1")
    if state.max_cooldown < 0:
        problems.append("$.state.max_cooldown: must be 0 or more")
    if cache.ttl <= 0:
        problems.append("$.cache.ttl: must be greater than 0")
    if cache.max_entries < 1:
        problems.append("$.cache.max_entries: must be at least 1")
    return problems
