"""The router: for one request, walk the model's providers under one deadline and fail over."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from gateway.dialects.base import new_id
from gateway.errors import BadRequest, GatewayError, NotFound, ProviderError, UpstreamFailure
from gateway.model import Attempt, RerankRequest, RerankResult, sort_and_cut
from gateway.router.attempts import Attempts, DeadlineExceeded, Step


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

    async def rerank(self, request: RerankRequest, *, timeout: float | None = None) -> RerankResult:
        plan = self.plans.get(request.model)
        if plan is None:
            raise NotFound(f"model {request.model!r} does not exist; GET /v1/models lists the models")
        budget = plan.timeout if timeout is None else min(timeout, self.max_timeout)
        deadline = self.attempts.clock() + budget
        log: list[Attempt] = []
        last: ProviderError | None = None
        for step in plan.steps:
            try:
                ranking = await self.attempts.run(step, request, deadline=deadline, log=log)
            except ProviderError as exc:
                last = exc
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
            )
        raise _failure(request.model, log, timed_out=self.attempts.clock() >= deadline - 0.05, last=last)


def _failure(model: str, log: list[Attempt], *, timed_out: bool, last: ProviderError | None) -> GatewayError:
    if log and all(a.outcome == "unservable" for a in log):
        reasons = "; ".join(f"{a.provider}: {a.detail}" for a in log)
        return BadRequest(f"no provider of model {model!r} can serve this request ({reasons})", field="$.documents")
    if not log:
        return UpstreamFailure(f"no provider of model {model!r} is available", status=503, attempts=log)
    if timed_out:
        return UpstreamFailure(f"model {model!r}: the request deadline passed", status=504, attempts=log)
    hints = [a.status for a in log]
    if all(s in (429, 503) for s in hints):
        retry = last.retry_after if last is not None else None
        return UpstreamFailure(
            f"every provider of model {model!r} is overloaded", status=503, attempts=log, retry_after=retry
        )
    return UpstreamFailure(f"every provider of model {model!r} failed", status=502, attempts=log)


__all__ = ["Attempts", "Plan", "Router", "Step"]
