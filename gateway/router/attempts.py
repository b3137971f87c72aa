"""Tries at one provider: tenacity retries with backoff and Retry-After, inside one deadline."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

import attrs
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from gateway.errors import ProviderError
from gateway.model import Attempt, Ranking, RerankRequest
from gateway.providers import Provider

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

#: No attempt starts with less time than this left: it could not finish anyway.
MIN_ATTEMPT_SECONDS = 0.05
BACKOFF_BASE = 0.1
BACKOFF_CAP = 2.0


class DeadlineExceeded(Exception):
    """Raised when the request's deadline leaves no time for another attempt."""


@attrs.frozen(kw_only=True)
class Step:
    """One provider of a model's list, with the upstream model name and its retry settings."""

    provider: Provider
    model: str
    timeout: float
    max_retries: int


@attrs.define
class Pacing:
    """The wait before each retry: Retry-After when given, else full-jitter exponential backoff.

    Computed once per attempt number so that the stop rule and the wait agree.
    """

    rng: random.Random
    _planned: dict[int, float] = attrs.field(factory=dict)

    def delay(self, state: RetryCallState) -> float:
        n = state.attempt_number
        if n not in self._planned:
            exc = state.outcome.exception() if state.outcome else None
            hint = exc.retry_after if isinstance(exc, ProviderError) else None
            backoff = self.rng.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (n - 1)))
            self._planned[n] = hint if hint is not None else backoff
        return self._planned[n]


@attrs.frozen(kw_only=True)
class Attempts:
    """Runs the tries at one provider and records each in `log`."""

    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep
    rng: random.Random = attrs.field(factory=random.Random)

    async def run(self, step: Step, request: RerankRequest, *, deadline: float, log: list[Attempt]) -> Ranking:
        """Return the provider's ranking, or raise its last ProviderError, or DeadlineExceeded."""
        # The first try runs outside tenacity: its per-attempt bookkeeping (action lists, coroutine
        # checks) cost about a tenth of a request's CPU, and most requests succeed first time.
        try:
            return await self._once(step, request, deadline=deadline, log=log)
        except ProviderError as exc:
            if not exc.retryable:
                raise
            first: ProviderError | None = exc
        pacing = Pacing(self.rng)

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number > step.max_retries:
                return True
            # Never wait past the deadline: a Retry-After longer than the time left means fail over.
            return self.clock() + pacing.delay(state) + MIN_ATTEMPT_SECONDS > deadline

        retrying = AsyncRetrying(
            stop=stop,
            wait=pacing.delay,
            retry=retry_if_exception(lambda e: isinstance(e, ProviderError) and e.retryable),
            reraise=True,
            sleep=self.sleep,
        )
        async for attempt in retrying:
            with attempt:
                if first is not None:
                    # Attempt 1 already ran: hand its failure to tenacity, which decides as before.
                    failed, first = first, None
                    raise failed
                return await self._once(step, request, deadline=deadline, log=log)
        raise AssertionError("unreachable: tenacity either returns or reraises")

    async def _once(self, step: Step, request: RerankRequest, *, deadline: float, log: list[Attempt]) -> Ranking:
        remaining = deadline - self.clock()
        if remaining < MIN_ATTEMPT_SECONDS:
            raise DeadlineExceeded
        start = self.clock()
        name = step.provider.name
        try:
            ranking = await step.provider.rerank(request, model=step.model, timeout=min(step.timeout, remaining))
        except ProviderError as exc:
            log.append(_record(name, step.model, exc.kind, exc.status, start=start, end=self.clock()))
            raise
        log.append(_record(name, step.model, "ok", 200, start=start, end=self.clock()))
        return ranking


def _record(provider: str, model: str, outcome: str, status: int | None, *, start: float, end: float) -> Attempt:
    return Attempt(provider=provider, model=model, outcome=outcome, status=status, duration_ms=(end - start) * 1000)
