"""The resilience settings in config: defaults, validation with paths, and what the runtime builds."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gateway import config as config_mod
from gateway import runtime as runtime_mod
from gateway.config import ConfigError

BASE: dict[str, Any] = {
    "providers": {"a": {"type": "local"}, "b": {"type": "local"}, "c": {"type": "local"}},
    "models": {"m": {"providers": [{"provider": "a"}, {"provider": "b"}, {"provider": "c"}]}},
}


def parse(extra: dict[str, Any] | None = None, **models: Any) -> config_mod.Config:
    """BASE plus `extra` at the top level and `models` overriding model `m`'s fields."""
    spec = {**BASE, **(extra or {})}
    spec["models"] = {"m": {**BASE["models"]["m"], **models}}
    return config_mod.parse(yaml.safe_dump(spec), env={})


def problems(extra: dict[str, Any] | None = None, **models: Any) -> list[str]:
    """The problems a config with these additions is refused for."""
    with pytest.raises(ConfigError) as error:
        parse(extra, **models)
    return error.value.problems


async def test_defaults() -> None:
    """Without a resilience section, the documented defaults apply."""
    r = parse().resilience
    assert (r.max_request_timeout, r.max_hedges, r.trust_env) == (300.0, 32, False)
    assert (r.retry_budget.ratio, r.retry_budget.min_per_second, r.retry_budget.window) == (0.2, 1.0, 10.0)
    b = r.breaker
    assert (b.failures, b.failure_rate, b.window, b.min_calls, b.cooldown, b.max_open, b.slow_call) == (
        5,
        0.5,
        30.0,
        20,
        15.0,
        300.0,
        5.0,
    )


async def test_plain_lists_get_strict_tiers_and_explicit_ones_share() -> None:
    """Without priorities each entry is its own tier (its position); equal priorities share a tier."""
    plain = runtime_mod.build(parse()).router.plans["m"].steps
    assert [s.priority for s in plain] == [0, 1, 2]
    routes = [{"provider": "a", "priority": 0, "weight": 3}, {"provider": "b", "priority": 0}, {"provider": "c"}]
    tiered = runtime_mod.build(parse(providers=routes)).router.plans["m"].steps
    assert [(s.priority, s.weight) for s in tiered] == [(0, 3.0), (0, 1.0), (2, 1.0)]


async def test_bad_values_are_named_by_path() -> None:
    """Out-of-range settings are refused, each with its JSON path."""
    found = problems(
        {
            "resilience": {
                "max_request_timeout": 0,
                "breaker": {"failures": 0, "failure_rate": 1.5, "cooldown": -1, "slow_call": 0},
                "retry_budget": {"ratio": -0.1},
                "max_hedges": -1,
            },
            "providers": {**BASE["providers"], "a": {"type": "local", "health_check": {"interval": 0}}},
        },
        providers=[{"provider": "a", "weight": 0}],
        hedge={"delay": 0, "max_parallel": 1},
    )
    assert set(found) >= {
        "$.resilience.max_request_timeout: must be greater than 0",
        "$.resilience.breaker.failures: must be at least 1",
        "$.resilience.breaker.failure_rate: must be greater than 0 and at most 1",
        "$.resilience.breaker.cooldown: must be greater than 0",
        "$.resilience.breaker.slow_call: must be greater than 0",
        "$.resilience.retry_budget: ratio and min_per_second must be 0 or more",
        "$.resilience.max_hedges: must be 0 or more",
        "$.providers.a.health_check.interval: must be greater than 0",
        "$.models.m.providers[0].weight: must be greater than 0",
        "$.models.m.hedge.delay: must be greater than 0",
        "$.models.m.hedge.max_parallel: must be at least 2",
    }


async def test_unknown_and_mistyped_keys_are_refused() -> None:
    """The strict converter refuses a typo and a string where a number belongs."""
    found = problems({"resilience": {"breaker": {"cooldwn": 3}, "max_hedges": "8"}})
    assert any("$.resilience.breaker" in p and "cooldwn" in p for p in found)
    assert any(p.startswith("$.resilience.max_hedges") for p in found)
