"""A config reload rebuilds the runtime; breakers of providers that still exist keep their state."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gateway import config as config_mod
from gateway import runtime as runtime_mod
from gateway.errors import UpstreamFailure
from gateway.router import Resilience
from gateway.router.breaker import State
from tests.conftest import StartFake, model
from tests.fakes.clock import FakeClock
from tests.router.fakes import request


def load(spec: dict[str, Any]) -> config_mod.Config:
    """A Config from a dict, as the loader reads a file."""
    return config_mod.parse(yaml.safe_dump(spec), env={})


async def test_rebuild_keeps_open_breakers(start_fake: StartFake) -> None:
    """An open breaker stays open across a rebuild; a provider removed from the config is forgotten once applied."""
    _, url = await start_fake("cohere")
    providers = {"a": {"type": "cohere", "base_url": url}, "b": {"type": "local"}}
    clock = FakeClock()
    first = runtime_mod.build(
        load({"providers": providers, "models": {"m": model(("a", "x"), ("b", "bm25"))}}),
        resilience=Resilience(clock=clock),
    )
    await first.resilience.breakers.open_until("a", clock() + 60, reason="test")
    await first.resilience.breakers.open_until("b", clock() + 60, reason="test")
    second = runtime_mod.rebuild(first, load({"providers": {"a": providers["a"]}, "models": {"m": model(("a", "x"))}}))
    second.apply()
    assert second.resilience is first.resilience
    assert (await second.resilience.breakers.view("a")).state is State.OPEN
    assert (await second.resilience.breakers.view("b")).state is State.CLOSED
    await second.start()
    try:
        with pytest.raises(UpstreamFailure) as failure:
            await second.router.rerank(request())
        assert failure.value.status == 503
        assert [a.outcome for a in failure.value.attempts] == ["breaker_open"]
    finally:
        await second.close()
