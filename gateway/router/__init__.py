"""The router: for one request, walk the model's providers under one deadline and fail over.

Providers are tried by tier (priority), by weight within a tier, skipping those whose breaker
is open; with hedging on, a slow attempt gets a parallel one at the next provider.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

import attrs

from gateway.config import HedgeConfig
from gateway.dialects.base import new_id
from gateway.errors import BadRequest, GatewayError, NotFound, ProviderError, UpstreamFailure
from gateway.model import SKIPPED, Attempt, Ranking, RerankRequest, RerankResult, sort_and_cut
from gateway.router import hedging, routing
from gateway.router.attempts import COOLDOWN, MIN_ATTEMPT_SECONDS, Attempts, Call, DeadlineExceeded, Exhausted, Step
from gateway.router.cache import ScoreCache
from gateway.router.shared import Resilience

#: The longest Retry-After the gateway passes on to its own clients.
MAX_CLIENT_RETRY_AFTER = 300.0


@attrs.frozen(kw_only=True)
class Plan:
    """A model's enabled providers, its deadline in seconds, and its hedging, if any."""

    steps: tuple[Step, ...]
    timeout: float
    hedge: HedgeConfig | None = None
    #: The model's cap on the slow-call threshold of its providers' breakers.
    #:
    #: A try the request stops (its deadline, a won hedge) counts as failed once it ran the
    #: breaker's `slow_call`, or less when this model's own settings already call that slow: half
    #: its deadline, or its hedge delay. Only the operator's settings count, never a client's
    #: shorter deadline, so a client's tight `x-request-timeout` cannot open a healthy breaker.
    slow_call: float = attrs.field(init=False)
    #: The try order when no tier holds two entries (no weighted draw to make), else None.
    fixed: tuple[Step, ...] | None = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        # Both depend on the config only: computed once here rather than on every request.
        hedge_delay = self.hedge.delay if self.hedge is not None else math.inf
        object.__setattr__(self, "slow_call", min(self.timeout / 2, hedge_delay))
        tiers = [s.priority for s in self.steps]
        fixed = tuple(sorted(self.steps, key=lambda s: s.priority)) if len(set(tiers)) == len(tiers) else None
        object.__setattr__(self, "fixed", fixed)


@attrs.frozen(kw_only=True)
class Router:
    """Turns an internal request into an internal result, or an UpstreamFailure with every attempt."""

    plans: Mapping[str, Plan]
    attempts: Attempts = attrs.field(factory=Attempts)
    guard: Resilience = attrs.field(factory=Resilience)
    #: Upper bound on a client-requested deadline.
    max_timeout: float = 300.0
    rng: random.Random = attrs.field(factory=random.Random)
    #: Scores reused across requests; None turns the cache off.
    cache: ScoreCache | None = None

    async def rerank(
        self, request: RerankRequest, *, timeout: float | None = None, since: float | None = None
    ) -> RerankResult:
        """Rank `request`; the deadline runs from `since` (on `attempts.clock`) when given, else from now."""
        plan = self.plans.get(request.model)
        if plan is None:
            raise NotFound(f"model {request.model!r} does not exist; GET /v1/models lists the models")
        budget = self._budget(plan, timeout)
        start = self.attempts.clock() if since is None else since
        call = Call(request=request, deadline=start + budget, guard=self.guard, slow=plan.slow_call)
        steps = plan.fixed if plan.fixed is not None else routing.order(plan.steps, self.rng)
        try:
            if plan.hedge is None:
                step, ranking = await self._in_turn(steps, call)
            else:
                step, ranking = await hedging.race(
                    steps,
                    run=lambda s: self._answer(s, call),
                    delay=plan.hedge.delay,
                    max_parallel=plan.hedge.max_parallel,
                    slots=self.guard.hedges,
                )
        except Exhausted as exc:
            timed_out = exc.timed_out or self.attempts.clock() >= call.deadline - MIN_ATTEMPT_SECONDS
            raise _failure(request.model, call, timed_out=timed_out) from None
        return RerankResult(
            id=new_id(),
            model=request.model,
            results=sort_and_cut(list(ranking.results), request.top_n),
            usage=ranking.usage,
            provider=step.provider.name,
            attempts=tuple(call.log),
            cache=call.cache,
        )

    def check_time_left(self, request: RerankRequest, *, timeout: float | None, since: float) -> None:
        """Raise the deadline's 504 now if a request that waited to start (at `since`) has no time left.

        So that a request let in after its deadline passed is not charged to a quota first.
        """
        plan = self.plans.get(request.model)
        if plan is None:
            return  # `rerank` answers that one
        if self.attempts.clock() >= since + self._budget(plan, timeout) - MIN_ATTEMPT_SECONDS:
            raise _deadline_passed(request.model, attempts=())

    def _budget(self, plan: Plan, timeout: float | None) -> float:
        # A client's deadline may only shorten the model's, never lengthen it.
        return plan.timeout if timeout is None else min(timeout, plan.timeout, self.max_timeout)

    def longest_deadline(self, timeout: float | None) -> float:
        """The longest deadline a request can have here, given the client's `timeout`, if it set one."""
        return max((self._budget(plan, timeout) for plan in self.plans.values()), default=0.0)

    async def _answer(self, step: Step, call: Call) -> Ranking:
        """The provider's ranking of every document, through the score cache when it applies."""
        if self.cache is None or step.cache_scope is None:
            return await self.attempts.run(step, call)
        ranking, call.cache = await self.cache.answer(
            step.cache_scope, call.request, lambda sub: self.attempts.run(step, call, request=sub)
        )
        return ranking

    async def _in_turn(self, steps: Sequence[Step], call: Call) -> tuple[Step, Ranking]:
        """Plain failover: each provider (with its retries) in order until one answers."""
        last: ProviderError | None = None
        for step in steps:
            try:
                return step, await self._answer(step, call)
            except ProviderError as exc:
                # Kept without its traceback: that would lead back to this frame, a cycle holding
                # the call and its documents until the garbage collector came by.
                last = exc.with_traceback(None)
            except DeadlineExceeded:
                raise Exhausted(last, timed_out=True) from None
        raise Exhausted(last, timed_out=False)


def _failure(model: str, call: Call, *, timed_out: bool) -> GatewayError:
    log = call.log
    if log and all(a.outcome == "unservable" for a in log):
        reasons = "; ".join(f"{a.provider}: {a.detail}" for a in log)
        return BadRequest(f"no provider of model {model!r} can serve this request ({reasons})", field="$.documents")
    # A deadline that left no room for any try is still the deadline passing, not an outage.
    if timed_out:
        return _deadline_passed(model, attempts=log)
    # Skipped providers (open breaker, cool-down, cannot take these documents) made no call: when
    # no provider was called, nothing is available, however many were skipped for which reason.
    tried = [a for a in log if a.outcome not in SKIPPED]
    if not tried:
        return UpstreamFailure(
            f"no provider of model {model!r} is available", status=503, attempts=log, retry_after=_cap(call.retry_after)
        )
    if all(a.status in (429, 503) for a in tried):
        return UpstreamFailure(
            f"every provider of model {model!r} is overloaded",
            status=503,
            attempts=log,
            retry_after=_cap(call.retry_after),
        )
    return UpstreamFailure(f"every provider of model {model!r} failed", status=502, attempts=log)


def _deadline_passed(model: str, *, attempts: Sequence[Attempt]) -> UpstreamFailure:
    return UpstreamFailure(f"model {model!r}: the request deadline passed", status=504, attempts=attempts)


def _cap(seconds: float | None) -> float | None:
    return None if seconds is None else min(seconds, MAX_CLIENT_RETRY_AFTER)


__all__ = ["COOLDOWN", "Attempts", "Plan", "Resilience", "Router", "ScoreCache", "Step"]
