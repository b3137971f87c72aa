"""The retry budget: a share of first attempts plus a small reserve, over a rolling window."""

from __future__ import annotations

from gateway.config import RetryBudgetConfig
from gateway.router.budget import RetryBudget
from tests.fakes.clock import FakeClock


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
