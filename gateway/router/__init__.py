"""The router: for one request, walk the model's providers under one deadline and fail over."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from gateway.dialects.base import new_id
from gateway.errors import BadRequest, GatewayError, NotFound, ProviderError, UpstreamFailure
from gateway.model import Attempt, Ranking, RerankRequest, RerankResult, sort_and_cut
from gateway.router.attempts import Attempts, DeadlineExceeded, Step
from gateway.router.cache import ScoreCache
from gateway.state import CooldownStore
from gateway.state.memory import MemoryCooldowns

#: The outcome recorded for a provider skipped because it is cooling down.
COOLDOWN = "cooldown"


@attrs.frozen(kw_only=True)
class Plan:
    """A model's enabled providers in order, and its deadline in seconds."""

    steps: tuple[Step, ...]
    timeout: float


@attrs.frozen(kw_only=True)
class Router:
    """Turns an internal request into an internal result, or an UpstreamFailure with every attempt."""

    plans: Mapping[str, Plan]
    attempts: Attempts = attrs.field(factory=Attempts)
    #: Upper bound on a client-requested deadline.
    max_timeout: float = 300.0
    #: Scores reused across requests; None turns the cache off.
    cache: ScoreCache | None = None
    #: Providers to skip for now; shared by every replica when the state lives in Redis.
    cooldowns: CooldownStore = attrs.field(factory=MemoryCooldowns)
    #: Upper bound (seconds) on a cool-down learned from a provider's Retry-After.
    max_cooldown: float = 300.0

    async def rerank(self, request: RerankRequest, *, timeout: float | None = None) -> RerankResult:
        plan = self.plans.get(request.model)
        if plan is None:
            raise NotFound(f"model {request.model!r} does not exist; GET /v1/models lists the models")
        budget = plan.timeout if timeout is None else min(timeout, self.max_timeout)
        deadline = self.attempts.clock() + budget
        log: list[Attempt] = []
        cooling: list[float] = []
        last: ProviderError | None = None
        for step in plan.steps:
            wait = await self.cooldowns.remaining(step.provider.name)
            if wait > 0:
                log.append(Attempt(provider=step.provider.name, model=step.model, outcome=COOLDOWN))
                cooling.append(wait)
                continue
            try:
                ranking, cached = await self._answer(step, request, deadline=deadline, log=log)
            except ProviderError as exc:
                last = exc
                await self.learn(step.provider.name, exc)
                continue
            except DeadlineExceeded:
                break
            return RerankResult(
                id=new_id(),
                model=request.model,
                results=sort_and_cut(list(ranking.results), request.top_n),
                usage=ranking.usage,
                provider=step.provider.name,
                attempts=tuple(log),
                cache=cached,
            )
        timed_out = self.attempts.clock() >= deadline - 0.05
        raise _failure(request.model, log, timed_out=timed_out, last=last, cooling=cooling)

    async def _answer(
        self, step: Step, request: RerankRequest, *, deadline: float, log: list[Attempt]
    ) -> tuple[Ranking, str]:
        """The provider's ranking of every document, through the score cache when it applies."""

        async def fetch(sub: RerankRequest) -> Ranking:
            return await self.attempts.run(step, sub, deadline=deadline, log=log)

        if self.cache is None or step.cache_scope is None:
            return await fetch(request), "off"
        return await self.cache.answer(step.cache_scope, request, fetch)

    async def learn(self, provider: str, error: ProviderError) -> None:
        """Cool a provider down when it said when to come back (429 or 503 with Retry-After).

        The breaker (when it opens) should call `self.cooldowns.mark` the same way, so that every
        replica skips the provider too.
        """
        if error.status in (429, 503) and error.retry_after:
            await self.cooldowns.mark(provider, seconds=min(error.retry_after, self.max_cooldown))


def _failure(
    model: str, log: list[Attempt], *, timed_out: bool, last: ProviderError | None, cooling: list[float]
) -> GatewayError:
    if log and all(a.outcome == "unservable" for a in log):
        reasons = "; ".join(f"{a.provider}: {a.detail}" for a in log)
        return BadRequest(f"no provider of model {model!r} can serve this request ({reasons})", field="$.documents")
    if not log:
        return UpstreamFailure(f"no provider of model {model!r} is available", status=503, attempts=log)
    if timed_out:
        return UpstreamFailure(f"model {model!r}: the request deadline passed", status=504, attempts=log)
    tried = [a for a in log if a.outcome != COOLDOWN]
    if not tried:
        return UpstreamFailure(
            f"every provider of model {model!r} is cooling down", status=503, attempts=log, retry_after=min(cooling)
        )
    if all(a.status in (429, 503) for a in tried):
        retry = last.retry_after if last is not None else None
        return UpstreamFailure(
            f"every provider of model {model!r} is overloaded", status=503, attempts=log, retry_after=retry
        )
    return UpstreamFailure(f"every provider of model {model!r} failed", status=502, attempts=log)


__all__ = ["COOLDOWN", "Attempts", "Plan", "Router", "ScoreCache", "Step"]
