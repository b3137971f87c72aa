"""Active health checks: a small real rerank call with a known answer, on an interval, feeding the breaker.

The call asks the provider to rank "apple" and "car" for the query "apple": a working reranker
scores the exact match higher, and the dialect checks the shape (every index once, finite
scores). A provider with health checks is probed back to closed by them, never by user traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping

import attrs

from gateway.config import HealthCheckConfig
from gateway.errors import ProviderError
from gateway.model import Document, Ranking, RerankRequest
from gateway.providers import Provider
from gateway.router.breaker import Breakers

log = logging.getLogger("gateway.health")

QUERY = "apple"
DOCUMENTS = (Document("apple", "apple"), Document("car", "car"))


class WrongAnswer(Exception):
    """Raised when a health check's ranking has the wrong shape or order."""


def check_answer(ranking: Ranking) -> None:
    """The known answer: both documents scored, "apple" (index 0) above "car" (index 1)."""
    scores = {r.index: r.score for r in ranking.results}
    if sorted(scores) != [0, 1]:
        raise WrongAnswer(f"expected scores for indices 0 and 1, got {sorted(scores)}")
    if not scores[0] > scores[1]:
        raise WrongAnswer("the exact match did not rank first")


@attrs.frozen(kw_only=True)
class Target:
    """One provider under active checks, and the upstream model the check names."""

    provider: Provider
    model: str
    config: HealthCheckConfig


@attrs.define
class HealthChecks:
    """One background task per checked provider; started and stopped with the runtime."""

    targets: Mapping[str, Target]
    breakers: Breakers
    clock: Callable[[], float] = time.monotonic
    #: The last result per provider: "ok", or why it failed.
    last: dict[str, str] = attrs.field(factory=dict)
    _tasks: list[asyncio.Task[None]] = attrs.field(factory=list)

    def start(self) -> None:
        """Start one checking loop per target."""
        self._tasks = [asyncio.create_task(self._loop(name)) for name in self.targets]

    async def stop(self) -> None:
        """Cancel every loop and wait for it."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _loop(self, name: str) -> None:
        while True:
            await asyncio.sleep(self.targets[name].config.interval)
            await self.check(name)

    async def check(self, name: str) -> str | None:
        """Run one check if the breaker allows it (not during a cool-down); return its result."""
        if not await self.breakers.allow(name, health=True):
            return None
        target = self.targets[name]
        request = RerankRequest(model=target.model, query=QUERY, documents=DOCUMENTS)
        try:
            ranking = await target.provider.rerank(request, model=target.model, timeout=target.config.timeout)
            check_answer(ranking)
        except asyncio.CancelledError:
            await self.breakers.release(name)
            raise
        except (ProviderError, WrongAnswer) as exc:
            result = f"failed: {exc}"
            await self.breakers.record_failure(name)
        except Exception as exc:  # noqa: BLE001 - a broken check must not kill the loop
            result = f"failed: {type(exc).__name__}"
            await self.breakers.record_failure(name)
        else:
            result = "ok"
            await self.breakers.record_success(name)
        if self.last.get(name) != result:
            log.info("health check changed", extra={"provider": name, "result": result})
        self.last[name] = result
        return result
