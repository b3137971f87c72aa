"""Tries at one provider: tenacity retries with backoff and Retry-After, inside one deadline.

Every try asks the provider's breaker first, reports its outcome to the breaker after, and a
retry (not a first try) must also find room in the process-wide retry budget. A try the request
itself stops (its deadline, a won hedge) is a failure only when it was slow (see Plan.slow_call).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable

import attrs
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from gateway.errors import ProviderError
from gateway.model import Attempt, Ranking, RerankRequest
from gateway.providers import Provider
from gateway.router.shared import Resilience

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

log = logging.getLogger("gateway.router")

#: No attempt starts with less time than this left: it could not finish anyway.
MIN_ATTEMPT_SECONDS = 0.05
BACKOFF_BASE = 0.1
BACKOFF_CAP = 2.0
#: The outcome recorded for a provider skipped because it is cooling down (maybe on another replica).
COOLDOWN = "cooldown"
#: Upstream answers that are the request's own fault: they say nothing about the provider's health.
NEUTRAL_STATUSES = frozenset({400, 413, 422})


class DeadlineExceeded(Exception):
    """Raised when the request's deadline leaves no time for another attempt."""


class Exhausted(Exception):
    """Raised when every provider failed or the deadline left no room; carries the last provider error."""

    def __init__(self, last: ProviderError | None, *, timed_out: bool) -> None:
        super().__init__("every provider failed")
        self.last = last
        self.timed_out = timed_out


@attrs.frozen(kw_only=True)
class Step:
    """One provider of a model's list, with the upstream model name, its retry settings and its tier."""

    provider: Provider
    model: str
    timeout: float
    max_retries: int
    priority: int = 0
    weight: float = 1.0
    #: Identity of this provider entry's scores in the score cache; None means never cached.
    cache_scope: str | None = None


@attrs.define
class Call:
    """One client request on its way through the providers: deadline, attempts so far, shared guards."""

    request: RerankRequest
    deadline: float
    guard: Resilience
    log: list[Attempt] = attrs.field(factory=list)
    #: The soonest any skipped or overloaded provider may be tried again, in seconds from when it was seen.
    retry_after: float | None = None
    #: What the score cache did for the answer: `hit`, `partial`, `miss` or `off`.
    cache: str = "off"
    #: Whether this request paid into the retry budget: once, at its first upstream call.
    deposited: bool = False
    #: The model's own bound on the breakers' slow-call threshold (see Plan.slow_call).
    slow: float = math.inf

    def hint(self, seconds: float) -> None:
        """Remember a Retry-After (or a breaker's cool-down), keeping the soonest."""
        self.retry_after = seconds if self.retry_after is None else min(self.retry_after, seconds)


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
    """Runs the tries at one provider and records each in the call's log."""

    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep
    rng: random.Random = attrs.field(factory=random.Random)

    async def run(self, step: Step, call: Call, *, request: RerankRequest | None = None) -> Ranking:
        """Return the provider's ranking, or raise its last ProviderError, or DeadlineExceeded.

        `request` replaces the call's own (the score cache sends only the uncached documents).
        """
        request = request or call.request
        # The first try runs outside tenacity: its per-attempt bookkeeping (action lists, coroutine
        # checks) cost about a tenth of a request's CPU, and most requests succeed first time.
        pending: list[ProviderError] = []
        try:
            return await self._once(step, call, request)
        except ProviderError as exc:
            if not exc.retryable:
                raise
            pending.append(exc)
        pacing = Pacing(self.rng)
        # tenacity's retrying object and its call state refer to each other, a cycle only the garbage
        # collector frees: the stop rule keeps what it needs, not the call (which holds the documents).
        deadline, budget, max_retries, clock = call.deadline, call.guard.budget, step.max_retries, self.clock

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number > max_retries:
                return True
            # Never wait past the deadline: a Retry-After longer than the time left means fail over.
            if clock() + pacing.delay(state) + MIN_ATTEMPT_SECONDS > deadline:
                return True
            return not budget.try_withdraw()

        retrying = AsyncRetrying(
            stop=stop,
            wait=pacing.delay,
            retry=retry_if_exception(lambda e: isinstance(e, ProviderError) and e.retryable),
            reraise=True,
            sleep=self.sleep,
        )
        async for attempt in retrying:
            with attempt:
                if pending:
                    # Attempt 1 already ran: hand its failure to tenacity, which decides as before.
                    raise pending.pop()
                return await self._once(step, call, request)
        raise AssertionError("unreachable: tenacity either returns or reraises")

    async def _admit(self, step: Step, call: Call) -> float:
        """The seconds this try may take; raise when the deadline or the breaker says no."""
        remaining = call.deadline - self.clock()
        if remaining < MIN_ATTEMPT_SECONDS:
            raise DeadlineExceeded
        name = step.provider.name
        # First what any replica learnt (a cool-down shared through Redis), so that a skip here
        # never takes this breaker's half-open probe slot.
        cooldowns = call.guard.cooldowns
        wait = await cooldowns.remaining(name) if cooldowns is not None else 0.0
        if wait > 0:
            call.log.append(Attempt(provider=name, model=step.model, outcome=COOLDOWN))
            call.hint(wait)
            raise ProviderError(COOLDOWN, retryable=False)
        if not await call.guard.breakers.allow(name):
            call.log.append(Attempt(provider=name, model=step.model, outcome="breaker_open"))
            call.hint(await call.guard.breakers.open_for(name) or MIN_ATTEMPT_SECONDS)
            raise ProviderError("breaker_open", retryable=False)
        return remaining

    async def _once(self, step: Step, call: Call, request: RerankRequest) -> Ranking:
        remaining = await self._admit(step, call)
        if not call.deposited:
            # Only requests that reach an upstream fund retries: answers from the score cache and
            # providers skipped by their breaker made no first attempt a retry could stand for.
            call.guard.budget.deposit()
            call.deposited = True
        name = step.provider.name
        breakers = call.guard.breakers
        start = self.clock()
        try:
            ranking = await step.provider.rerank(request, model=step.model, timeout=min(step.timeout, remaining))
        except ProviderError as exc:
            end = self.clock()
            call.log.append(_record(name, step.model, exc.kind, exc.status, start=start, end=end, detail=exc.detail))
            if exc.retry_after:
                call.hint(exc.retry_after)
            if exc.kind == "timeout" and remaining < step.timeout:
                # Cut short by this request's deadline, not by the provider's own timeout.
                await self._unanswered(name, call, ran=end - start)
            else:
                await self._judge(name, exc, call.guard)
            raise
        except asyncio.CancelledError:
            # A lost hedge or a gone client.
            end = self.clock()
            call.log.append(_record(name, step.model, "cancelled", None, start=start, end=end))
            await self._unanswered(name, call, ran=end - start)
            raise
        except Exception as exc:
            log.exception("provider raised an unexpected error", extra={"provider": name})
            call.log.append(_record(name, step.model, "internal_error", None, start=start, end=self.clock()))
            await breakers.record_failure(name)
            raise ProviderError("internal_error", retryable=False, detail=type(exc).__name__) from None
        call.log.append(_record(name, step.model, "ok", 200, start=start, end=self.clock()))
        await breakers.record_success(name)
        return ranking

    async def _judge(self, name: str, exc: ProviderError, guard: Resilience) -> None:
        """Tell the breaker what one failed attempt says about the provider, and share a cool-down."""
        breakers = guard.breakers
        if exc.kind == "unservable" or exc.status in NEUTRAL_STATUSES:
            await breakers.release(name)
            return
        if exc.status in (429, 503) and exc.retry_after:
            await breakers.open_until(name, self.clock() + exc.retry_after, reason=f"{exc.kind} with Retry-After")
        else:
            await breakers.record_failure(name)
        await self._share(name, guard)

    async def _unanswered(self, name: str, call: Call, *, ran: float) -> None:
        """A try the request stopped: no verdict when short (a client's own tight deadline), a failure when slow."""
        if await call.guard.breakers.record_unanswered(name, ran=ran, limit=call.slow):
            await self._share(name, call.guard)

    async def _share(self, name: str, guard: Resilience) -> None:
        """An open breaker becomes a cool-down every replica sees (through Redis when configured)."""
        open_for = await guard.breakers.open_for(name)
        if open_for and guard.cooldowns is not None:
            await guard.cooldowns.mark(name, seconds=min(open_for, guard.max_cooldown))


def _record(
    provider: str, model: str, outcome: str, status: int | None, *, start: float, end: float, detail: str = ""
) -> Attempt:
    duration_ms = (end - start) * 1000
    return Attempt(
        provider=provider, model=model, outcome=outcome, status=status, duration_ms=duration_ms, detail=detail
    )
