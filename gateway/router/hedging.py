"""Hedging: when the current attempt has not answered after a delay, start the next provider too.

Rerank calls are idempotent and short, so a second call to another provider trades a little
upstream load for a shorter tail. The first valid answer wins and the others are cancelled; a
process-wide cap (HedgeSlots) bounds how many hedged attempts run at once. A failure starts the
next provider at once, as plain failover does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import attrs

from gateway.errors import ProviderError
from gateway.model import Ranking
from gateway.router.attempts import DeadlineExceeded, Exhausted, Step
from gateway.router.shared import HedgeSlots

Run = Callable[[Step], Awaitable[Ranking]]


@attrs.define
class Race:
    """One request's hedged walk down its providers."""

    queue: list[Step]
    run: Run
    delay: float
    max_parallel: int
    slots: HedgeSlots
    running: dict[asyncio.Task[Ranking], tuple[Step, bool]] = attrs.field(factory=dict)
    last: ProviderError | None = None
    timed_out: bool = False

    async def go(self) -> tuple[Step, Ranking]:
        try:
            self._launch(hedged=False)
            while self.running:
                done, _ = await asyncio.wait(
                    self.running, timeout=self.delay if self._can_hedge() else None, return_when="FIRST_COMPLETED"
                )
                if not done:
                    self._launch(hedged=True)
                    continue
                for task in done:
                    won = self._settle(task)
                    if won is not None:
                        return won
                self._launch(hedged=bool(self.running))
        finally:
            await self._cancel_rest()
        raise Exhausted(self.last, timed_out=self.timed_out)

    def _can_hedge(self) -> bool:
        return bool(self.queue) and len(self.running) < self.max_parallel and not self.timed_out

    def _launch(self, *, hedged: bool) -> None:
        """Start the next provider; a start beside a running attempt needs a hedge slot."""
        if not self.queue or self.timed_out or len(self.running) >= self.max_parallel:
            return
        if hedged and not self.slots.try_acquire():
            return
        step = self.queue.pop(0)
        self.running[asyncio.ensure_future(self.run(step))] = (step, hedged)

    def _settle(self, task: asyncio.Task[Ranking]) -> tuple[Step, Ranking] | None:
        step, hedged = self.running.pop(task)
        if hedged:
            self.slots.release()
        exc = task.exception()
        if exc is None:
            return step, task.result()
        if isinstance(exc, ProviderError):
            self.last = exc.with_traceback(None)  # no traceback: no cycle through the tried frames
        elif isinstance(exc, DeadlineExceeded):
            self.timed_out = True
        else:
            raise exc
        return None

    async def _cancel_rest(self) -> None:
        tasks = list(self.running)
        for task in tasks:
            task.cancel()
        for _, hedged in self.running.values():
            if hedged:
                self.slots.release()
        self.running.clear()
        # Wait for the losers, so their `cancelled` records are in the log before the answer is built.
        await asyncio.gather(*tasks, return_exceptions=True)


async def race(
    steps: Sequence[Step], *, run: Run, delay: float, max_parallel: int, slots: HedgeSlots
) -> tuple[Step, Ranking]:
    """The first provider to answer, hedging after `delay`; raise Exhausted when none does."""
    return await Race(list(steps), run, delay, max_parallel, slots).go()
