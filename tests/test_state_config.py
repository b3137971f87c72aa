"""The `state` and `cache` config sections and per-key quota fields: defaults, and errors with paths."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gateway import config as config_mod
from gateway.config import ConfigError

BASE: dict[str, Any] = {
    "providers": {"local": {"type": "local"}},
    "models": {"m": {"providers": [{"provider": "local"}]}},
}


def parse(**extra: Any) -> config_mod.Config:
    return config_mod.parse(yaml.safe_dump({**BASE, **extra}), env={"PORT": "6390"})


def problems(**extra: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(**extra)
    return caught.value.problems


def test_defaults_are_memory_state_and_a_cache_that_is_on() -> None:
    """With no `state` or `cache` section the state is in process and the score cache is on."""
    config = parse()
    assert config.state.backend == "memory"
    assert config.cache.enabled
    assert config.cache.ttl > 0


def test_a_redis_section_is_read_with_variables() -> None:
    """A redis backend takes its URL (with ${VAR}), prefix and timeouts."""
    redis = {"url": "redis://127.0.0.1:${PORT}/2", "key_prefix": "x:", "timeout": 0.1}
    config = parse(state={"backend": "redis", "redis": redis})
    assert config.state.redis is not None
    assert config.state.redis.url == "redis://127.0.0.1:6390/2"
    assert config.state.redis.timeout == 0.1


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"state": {"backend": "redis"}}, "$.state.redis: required when `backend` is `redis`"),
        ({"state": {"backend": "redis", "redis": {"url": "http://x"}}}, "$.state.redis.url: must be a redis://"),
        ({"state": {"backend": "redis", "redis": {"url": "redis://x", "timeout": 0}}}, "$.state.redis.timeout: must"),
        ({"state": {"backend": "disk"}}, "$.state.backend"),
        ({"state": {"redis": {"url": "redis://x", "tiemout": 1}}}, "$.state.redis"),
        ({"cache": {"ttl": -1}}, "$.cache.ttl: must be greater than 0"),
        ({"cache": {"enabled": "yes"}}, "$.cache.enabled"),
    ],
)
def test_bad_state_and_cache_settings_name_their_path(extra: dict[str, Any], expected: str) -> None:
    """Each bad setting is refused with the JSON path of the culprit."""
    assert any(p.startswith(expected) for p in problems(**extra)), problems(**extra)


def test_bad_key_quotas_and_allow_lists_name_their_path() -> None:
    """rpm and dpm must be positive and an allow-list may only name models that exist."""
    keys = [{"name": "a", "key": "k", "rpm": 0, "dpm": 5, "models": ["m", "nope"]}]
    found = problems(auth={"api_keys": keys})
    assert "$.auth.api_keys[0].rpm: must be at least 1" in found
    assert "$.auth.api_keys[0].models[1]: unknown model 'nope'" in found
    assert not any("dpm" in p for p in found)
