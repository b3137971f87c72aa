"""The retry budget: a share of first attempts plus a small reserve, over a rolling window."""

from __future__ import annotations

import attrs
import pytest

from gateway.config import BreakerConfig, RetryBudgetConfig
from gateway.errors import ProviderError, UpstreamFailure
from gateway.router import ScoreCache
from gateway.router.breaker import Settings
from gateway.router.budget import RetryBudget
from gateway.state import Counters
from gateway.state.memory import MemoryScores
from tests.fakes.clock import FakeClock
from tests.router.fakes import ScriptedProvider, request, router, step


def spend(budget: RetryBudget) -> int:
    """Withdraw until refused; return how many retries were allowed."""
    n = 0
    while budget.try_withdraw():
        n += 1
    return n


async def test_the_reserve_lets_a_quiet_gateway_retry() -> None:
    """With no traffic at all, min_per_second * window retries are available."""
    budget = RetryBudget(RetryBudgetConfig(ratio=0.2, min_per_second=0.5, window=10), clock=FakeClock())
    assert spend(budget) == 5


async def test_retries_are_a_share_of_requests() -> None:
    """100 requests earn 20 retries at ratio 0.2 (no reserve)."""
    budget = RetryBudget(RetryBudgetConfig(ratio=0.2, min_per_second=0, window=10), clock=FakeClock())
    for _ in range(100):
        budget.deposit()
    assert spend(budget) == 20


async def test_deposits_and_withdrawals_expire_with_the_window() -> None:
    """After the window passes, old requests no longer pay for retries, and spent retries come back."""
    clock = FakeClock()
    budget = RetryBudget(RetryBudgetConfig(ratio=0.5, min_per_second=0, window=10), clock=clock)
    for _ in range(10):
        budget.deposit()
    assert spend(budget) == 5
    clock.advance(11)
    assert spend(budget) == 0
    budget.deposit()
    budget.deposit()
    assert spend(budget) == 1


async def test_only_requests_that_reach_an_upstream_fund_retries() -> None:
    """Fifty requests answered by one upstream call and 49 cache hits earn retries for one request, not fifty."""
    clock = FakeClock()
    provider = ScriptedProvider("p")
    r = router(attrs.evolve(step(provider, retries=10), cache_scope="p"), clock=clock)
    r = attrs.evolve(r, cache=ScoreCache(store=MemoryScores(ttl=3600, max_entries=100), counters=Counters()))
    r.guard.budget.configure(RetryBudgetConfig(ratio=0.5, min_per_second=0, window=60))
    r.guard.breakers.configure({"p": Settings(config=BreakerConfig(failures=100, min_calls=100))})
    for _ in range(50):
        await r.rerank(request())
    assert provider.calls == 1
    provider.default = ProviderError("http_500", retryable=True, status=500)
    with pytest.raises(UpstreamFailure):
        await r.rerank(attrs.evolve(request(), query="another query"))
    # Two requests reached the upstream: 2 * 0.5 tokens is one retry after the new first try.
    assert provider.calls == 1 + 2
