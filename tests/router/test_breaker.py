"""The circuit breaker's state machine, on an injected clock."""

from __future__ import annotations

import logging
import math

import pytest

from gateway.config import BreakerConfig
from gateway.router.breaker import MemoryBreakers, Settings, State
from tests.fakes.clock import FakeClock

CONFIG = BreakerConfig(failures=3, failure_rate=0.5, window=10, min_calls=4, cooldown=5, max_open=60)


def breakers(clock: FakeClock, *, health_probes: bool = False, config: BreakerConfig = CONFIG) -> MemoryBreakers:
    """Breakers for provider `p` (CONFIG unless told)."""
    b = MemoryBreakers(clock)
    b.configure({"p": Settings(config=config, health_probes=health_probes)})
    return b


async def test_consecutive_failures_open_it() -> None:
    """Three failures in a row open it; a success in between resets the count."""
    b = breakers(FakeClock(), config=BreakerConfig(failures=3, min_calls=100))
    for _ in range(2):
        await b.record_failure("p")
    await b.record_success("p")
    for _ in range(2):
        await b.record_failure("p")
    assert (await b.view("p")).state is State.CLOSED
    await b.record_failure("p")
    assert (await b.view("p")).state is State.OPEN
    assert not await b.allow("p")


async def test_failure_rate_opens_it_once_enough_calls_were_seen() -> None:
    """Two failures out of four calls (50%) open it; the same rate over fewer calls does not."""
    b = breakers(FakeClock())
    await b.record_success("p")
    await b.record_failure("p")
    await b.record_success("p")
    assert (await b.view("p")).state is State.CLOSED
    await b.record_failure("p")
    assert (await b.view("p")).state is State.OPEN


async def test_old_calls_leave_the_window() -> None:
    """Failures older than the window no longer count toward the rate."""
    clock = FakeClock()
    b = breakers(clock)
    for _ in range(2):
        await b.record_failure("p")
        await b.record_success("p")
    b2 = breakers(clock)
    await b2.record_failure("p")
    await b2.record_success("p")
    clock.advance(11)
    await b2.record_success("p")
    await b2.record_failure("p")
    view = await b2.view("p")
    assert view.state is State.CLOSED
    assert view.window_calls == 2


async def test_one_probe_after_the_cooldown_and_it_decides() -> None:
    """After the cool-down exactly one call may go; its failure reopens, a later success closes."""
    clock = FakeClock()
    b = breakers(clock)
    for _ in range(3):
        await b.record_failure("p")
    clock.advance(4.9)
    assert not await b.allow("p")
    clock.advance(0.1)
    assert await b.allow("p")
    assert not await b.allow("p")
    await b.record_failure("p")
    assert (await b.view("p")).state is State.OPEN
    clock.advance(5)
    assert await b.allow("p")
    await b.record_success("p")
    assert (await b.view("p")).state is State.CLOSED
    assert await b.allow("p")
    assert await b.allow("p")


async def test_a_released_probe_frees_the_slot() -> None:
    """A probe that ends without a verdict (cancelled) lets the next caller probe."""
    clock = FakeClock()
    b = breakers(clock)
    for _ in range(3):
        await b.record_failure("p")
    clock.advance(5)
    assert await b.allow("p")
    await b.release("p")
    assert await b.allow("p")


async def test_a_lost_probe_expires_after_a_cooldown() -> None:
    """A probe that never reports does not block the provider forever."""
    clock = FakeClock()
    b = breakers(clock)
    for _ in range(3):
        await b.record_failure("p")
    clock.advance(5)
    assert await b.allow("p")
    clock.advance(4.9)
    assert not await b.allow("p")
    clock.advance(0.1)
    assert await b.allow("p")


async def test_retry_after_opens_for_that_long_capped() -> None:
    """open_until opens for the Retry-After, at most max_open, and a late success does not cut it short."""
    clock = FakeClock()
    b = breakers(clock)
    await b.open_until("p", clock() + 20, reason="429")
    assert (await b.view("p")).open_for == pytest.approx(20)
    await b.record_success("p")
    assert (await b.view("p")).state is State.OPEN
    await b.open_until("p", clock() + 10_000, reason="429")
    assert (await b.view("p")).open_for == pytest.approx(60)
    clock.advance(60)
    assert await b.allow("p")


async def test_health_probes_keep_user_traffic_out_of_half_open() -> None:
    """With health checks, user calls never probe; the health check does."""
    clock = FakeClock()
    b = breakers(clock, health_probes=True)
    for _ in range(3):
        await b.record_failure("p")
    clock.advance(5)
    assert not await b.allow("p")
    assert await b.allow("p", health=True)
    await b.record_success("p")
    assert await b.allow("p")


async def test_state_survives_reconfigure_and_removed_providers_are_dropped() -> None:
    """Reconfiguring keeps an open breaker open; a provider that left the config starts fresh if it returns."""
    clock = FakeClock()
    b = breakers(clock)
    for _ in range(3):
        await b.record_failure("p")
    b.configure({"p": Settings(config=BreakerConfig(cooldown=5, window=99)), "q": Settings()})
    assert (await b.view("p")).state is State.OPEN
    b.configure({"q": Settings()})
    b.configure({"p": Settings(), "q": Settings()})
    assert (await b.view("p")).state is State.CLOSED


async def test_changes_are_logged_as_json_fields(caplog: pytest.LogCaptureFixture) -> None:
    """Each change is one record on gateway.breaker with provider, previous and new state, and reason."""
    caplog.set_level(logging.INFO, logger="gateway.breaker")
    b = breakers(FakeClock())
    for _ in range(3):
        await b.record_failure("p")
    (record,) = [r for r in caplog.records if r.name == "gateway.breaker"]
    assert vars(record)["provider"] == "p"
    assert (vars(record)["previous"], vars(record)["state"]) == ("closed", "open")
    assert vars(record)["reason"] == "3 consecutive failures"
    assert vars(record)["open_for"] == 5


async def test_a_stopped_call_counts_only_when_slow() -> None:
    """A call the request stopped is no verdict under `slow_call`, a failure at it, and `limit` lowers the bar."""
    b = breakers(FakeClock(), config=BreakerConfig(failures=2, min_calls=100, slow_call=5))
    assert not await b.record_unanswered("p", ran=4.9, limit=math.inf)
    assert (await b.view("p")).window_calls == 0
    assert await b.record_unanswered("p", ran=5, limit=math.inf)
    assert (await b.view("p")).consecutive_failures == 1
    assert await b.record_unanswered("p", ran=1, limit=0.5)
    assert (await b.view("p")).state is State.OPEN


async def test_a_short_stopped_probe_frees_the_slot() -> None:
    """A half-open probe stopped before it was slow frees the probe slot, like a release."""
    clock = FakeClock()
    b = breakers(clock)
    for _ in range(3):
        await b.record_failure("p")
    clock.advance(5)
    assert await b.allow("p")
    assert not await b.record_unanswered("p", ran=0.1, limit=math.inf)
    assert (await b.view("p")).state is State.HALF_OPEN
    assert await b.allow("p")
