"""Hedging: a slow attempt gets a parallel one at the next provider; the first valid answer wins."""

from __future__ import annotations

from gateway.config import HedgeConfig
from gateway.errors import ProviderError
from tests.router.fakes import ScriptedProvider, request, router, step


async def test_hedge_answers_and_the_slow_attempt_is_cancelled() -> None:
    """The primary hangs; after the delay the backup starts, answers, and the primary's call is cancelled."""
    primary, backup = ScriptedProvider("primary", default="hang"), ScriptedProvider("backup")
    r = router(step(primary), step(backup), hedge=HedgeConfig(delay=0.01))
    result = await r.rerank(request())
    assert result.provider == "backup"
    assert primary.cancelled == 1
    assert [(a.provider, a.outcome) for a in result.attempts] == [("backup", "ok"), ("primary", "cancelled")]
    assert r.guard.hedges.in_use == 0


async def test_no_hedge_when_the_first_answers_in_time() -> None:
    """A prompt primary answers alone: the backup is never called."""
    primary, backup = ScriptedProvider("primary"), ScriptedProvider("backup")
    r = router(step(primary), step(backup), hedge=HedgeConfig(delay=30))
    assert (await r.rerank(request())).provider == "primary"
    assert backup.calls == 0


async def test_failure_fails_over_at_once_without_waiting_for_the_delay() -> None:
    """A fast failure starts the next provider right away (a 1 hour delay would time the test out)."""
    primary = ScriptedProvider("primary", default=ProviderError("http_500", retryable=False, status=500))
    backup = ScriptedProvider("backup")
    r = router(step(primary), step(backup), hedge=HedgeConfig(delay=3600))
    assert (await r.rerank(request())).provider == "backup"


async def test_the_process_cap_stops_hedging() -> None:
    """With no hedge slot free, the slow primary runs to its timeout before the backup is tried."""
    primary, backup = ScriptedProvider("primary", default="hang"), ScriptedProvider("backup")
    r = router(step(primary, timeout=0.1), step(backup), hedge=HedgeConfig(delay=0.01))
    r.guard.hedges.limit = 0
    result = await r.rerank(request())
    assert result.provider == "backup"
    assert [(a.provider, a.outcome) for a in result.attempts] == [("primary", "timeout"), ("backup", "ok")]
    assert primary.cancelled == 0


async def test_max_parallel_bounds_the_attempts_in_flight() -> None:
    """With max_parallel 2 and two hanging providers, the third starts only when one of them gives up."""
    a, b, c = ScriptedProvider("a", default="hang"), ScriptedProvider("b", default="hang"), ScriptedProvider("c")
    r = router(
        step(a, timeout=0.2),
        step(b),
        step(c),
        hedge=HedgeConfig(delay=0.01, max_parallel=2),
    )
    result = await r.rerank(request())
    assert result.provider == "c"
    outcomes = [(x.provider, x.outcome) for x in result.attempts]
    assert outcomes[0] == ("a", "timeout")
    assert ("b", "cancelled") in outcomes
    assert r.guard.hedges.in_use == 0
