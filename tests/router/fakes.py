"""In-process providers for router tests: scripted answers, hangs and failures, with a record of calls."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

import attrs

from gateway.errors import ProviderError
from gateway.model import Document, Ranked, Ranking, RerankRequest
from gateway.router import Attempts, Plan, Resilience, Router, Step
from tests.fakes.clock import FakeClock

#: What one call does: "ok", "hang" (until the timeout), or a ProviderError to raise.
Act = str | ProviderError


@attrs.define
class ScriptedProvider:
    """A provider whose calls follow a script; it counts calls and cancellations."""

    name: str
    script: deque[Act] = attrs.field(factory=deque)
    default: Act = "ok"
    calls: int = 0
    cancelled: int = 0

    async def rerank(self, request: RerankRequest, *, model: str, timeout: float) -> Ranking:
        self.calls += 1
        act = self.script.popleft() if self.script else self.default
        if isinstance(act, ProviderError):
            raise act
        if act == "hang":
            try:
                await asyncio.sleep(timeout)
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
            raise ProviderError("timeout", retryable=True)
        n = len(request.documents)
        return Ranking(results=tuple(Ranked(i, 1.0 - i / (n + 1)) for i in range(n)))

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


def step(
    provider: ScriptedProvider, *, priority: int = -1, weight: float = 1.0, retries: int = 0, timeout: float = 30.0
) -> Step:
    """A step at `provider`; without a priority, `router` gives it its position (strict order)."""
    return Step(provider=provider, model="x", timeout=timeout, max_retries=retries, priority=priority, weight=weight)


def request(n: int = 3) -> RerankRequest:
    """A request for model `m` with `n` documents."""
    return RerankRequest(model="m", query="q", documents=tuple(Document(f"d{i}", f"d{i}") for i in range(n)))


def router(*steps: Step, timeout: float = 30.0, clock: FakeClock | None = None, **plan: object) -> Router:
    """A router with one model `m`; on a FakeClock when given (its sleep moves the clock)."""
    now: Callable[[], float] = clock if clock is not None else FakeClock()
    sleep = clock.sleep if clock is not None else FakeClock().sleep
    attempts = Attempts(clock=now, sleep=sleep) if clock is not None else Attempts(sleep=sleep)
    guard = Resilience(clock=attempts.clock)
    steps = tuple(attrs.evolve(s, priority=i) if s.priority < 0 else s for i, s in enumerate(steps))
    return Router(plans={"m": Plan(steps=steps, timeout=timeout, **plan)}, attempts=attempts, guard=guard)  # type: ignore[arg-type]
