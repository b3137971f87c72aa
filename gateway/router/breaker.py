"""Circuit breakers per provider (closed, open, half-open) behind a small async interface.

The interface is async so that a shared backend (Redis, so replicas share cool-downs) can sit
behind it; `MemoryBreakers` is the default, in process. State changes are logged as JSON lines
on the `gateway.breaker` logger.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Mapping
from typing import Protocol

import attrs

from gateway.config import BreakerConfig
from gateway.router.window import Rolling

log = logging.getLogger("gateway.breaker")


#: Told of every breaker state change: (provider, new state value).
Listener = Callable[[str, str], None]


class State(enum.StrEnum):
    """Closed lets traffic through, open skips the provider, half-open lets one probe through."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@attrs.frozen(kw_only=True)
class View:
    """One breaker as the admin endpoint and metrics show it; `open_for` is seconds left open."""

    state: State
    open_for: float = 0.0
    consecutive_failures: int = 0
    window_calls: int = 0
    window_failures: int = 0
    reason: str | None = None


@attrs.frozen(kw_only=True)
class Settings:
    """A breaker's thresholds, and whether health checks (not user traffic) do the probing."""

    config: BreakerConfig = attrs.field(factory=BreakerConfig)
    health_probes: bool = False


class Breakers(Protocol):
    """The breaker state of every provider, by provider name."""

    def configure(self, settings: Mapping[str, Settings]) -> None:
        """Set the providers and their settings; state survives for providers that still exist."""

    def subscribe(self, listener: Listener) -> None:
        """Call `listener(provider, state)` on every state change (metrics use it)."""

    async def allow(self, name: str, *, health: bool = False) -> bool:
        """Whether a call may start now; in half-open, true for exactly one probe at a time."""

    async def record_success(self, name: str) -> None:
        """A call succeeded: a probe closes the breaker."""

    async def record_failure(self, name: str) -> None:
        """A call failed: may open the breaker."""

    async def release(self, name: str) -> None:
        """A call ended with no verdict (cancelled, or the request's own fault): free the probe slot."""

    async def record_unanswered(self, name: str, *, ran: float, limit: float) -> bool:
        """A call the request stopped (its deadline, a won hedge, a gone client) after `ran` seconds.

        A slow call (one that ran at least `slow_call`, or `limit` when smaller) counts as a failure
        and the answer is True; a shorter one says nothing about the provider, like `release`.
        """

    async def open_until(self, name: str, until: float, *, reason: str) -> None:
        """Open the breaker until `until` on the breaker clock (a Retry-After), capped by `max_open`."""

    async def view(self, name: str) -> View:
        """The breaker's state now."""

    async def open_for(self, name: str) -> float:
        """Seconds until an open breaker lets a probe through; 0 when it is not open.

        What a skipped call needs, without the window totals `view` adds up for the admin page.
        """


@attrs.define
class Breaker:
    """One provider's breaker, on an injected clock."""

    name: str
    settings: Settings
    clock: Callable[[], float]
    state: State = State.CLOSED
    until: float = 0.0
    reason: str | None = None
    consecutive: int = 0
    probe_until: float | None = None
    listeners: list[Listener] = attrs.field(factory=list)
    window: Rolling = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.window = Rolling(self.settings.config.window)

    def allow(self, *, health: bool) -> bool:
        now = self._tick()
        if self.state is State.CLOSED:
            return True
        if self.state is State.OPEN or (self.settings.health_probes and not health):
            return False
        # Half-open: one probe at a time; a probe that never reports frees its slot after a cool-down.
        if self.probe_until is not None and now < self.probe_until:
            return False
        self.probe_until = now + self.settings.config.cooldown
        return True

    def success(self) -> None:
        self._tick()
        self._count(failed=False)
        self.consecutive = 0
        self.probe_until = None
        # A late success while open proves little (and must not cut a Retry-After short): only a probe closes.
        if self.state is State.HALF_OPEN:
            self._move(State.CLOSED, "probe succeeded")
            self.window.clear()

    def failure(self) -> None:
        self._tick()
        self._count(failed=True)
        self.consecutive += 1
        self.probe_until = None
        cfg = self.settings.config
        if self.state is State.HALF_OPEN:
            self._open(cfg.cooldown, "probe failed")
        elif self.state is State.CLOSED and self.consecutive >= cfg.failures:
            self._open(cfg.cooldown, f"{self.consecutive} consecutive failures")
        elif self.state is State.CLOSED and self._rate_exceeded():
            self._open(cfg.cooldown, "failure rate over the window")

    def release(self) -> None:
        self.probe_until = None

    def unanswered(self, ran: float, limit: float) -> bool:
        # resilience4j's slow calls: not answering for this long is a failure, whoever stopped the call.
        if ran >= min(self.settings.config.slow_call, limit):
            self.failure()
            return True
        self.release()
        return False

    def open_until(self, until: float, reason: str) -> None:
        self._tick()
        self._count(failed=True)
        self.consecutive += 1
        self.probe_until = None
        seconds = min(until - self.clock(), self.settings.config.max_open)
        if seconds > 0 and (self.state is not State.OPEN or self.clock() + seconds > self.until):
            self._open(seconds, reason)

    def open_for(self) -> float:
        return self._open_for(self._tick())

    def view(self) -> View:
        now = self._tick()
        return View(
            state=self.state,
            open_for=self._open_for(now),
            consecutive_failures=self.consecutive,
            window_calls=int(self.window.total(now, "calls")),
            window_failures=int(self.window.total(now, "failures")),
            reason=self.reason,
        )

    def _open_for(self, now: float) -> float:
        return self.until - now if self.state is State.OPEN else 0.0

    def _tick(self) -> float:
        """Move an open breaker whose cool-down is over to half-open; return the time."""
        now = self.clock()
        if self.state is State.OPEN and now >= self.until:
            self._move(State.HALF_OPEN, "cool-down over")
        return now

    def _count(self, *, failed: bool) -> None:
        now = self.clock()
        self.window.add(now, "calls")
        if failed:
            self.window.add(now, "failures")

    def _rate_exceeded(self) -> bool:
        cfg = self.settings.config
        now = self.clock()
        calls = self.window.total(now, "calls")
        return calls >= cfg.min_calls and self.window.total(now, "failures") / calls >= cfg.failure_rate

    def _open(self, seconds: float, reason: str) -> None:
        self.until = self.clock() + seconds
        self._move(State.OPEN, reason, open_for=round(seconds, 3))

    def _move(self, state: State, reason: str, *, open_for: float | None = None) -> None:
        previous, self.state, self.reason = self.state, state, reason
        if state is not State.OPEN:
            self.until = 0.0
        extra: dict[str, object] = {"provider": self.name, "previous": previous.value, "state": state.value}
        extra["reason"] = reason
        if open_for is not None:
            extra["open_for"] = open_for
        log.info("breaker state changed", extra=extra)
        for listener in self.listeners:
            listener(self.name, state.value)


@attrs.define
class MemoryBreakers:
    """Breakers in process memory: the default backend, and the fallback of shared ones."""

    clock: Callable[[], float] = time.monotonic
    _breakers: dict[str, Breaker] = attrs.field(factory=dict)
    _listeners: list[Listener] = attrs.field(factory=list)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def configure(self, settings: Mapping[str, Settings]) -> None:
        """Set the providers and their settings; state survives for providers that still exist."""
        for name in set(self._breakers) - set(settings):
            del self._breakers[name]
        for name, s in settings.items():
            old = self._breakers.get(name)
            if old is None or old.settings.config.window != s.config.window:
                fresh = Breaker(name, s, self.clock, listeners=self._listeners)
                if old is not None:
                    fresh.state, fresh.until, fresh.reason = old.state, old.until, old.reason
                self._breakers[name] = fresh
            else:
                old.settings = s

    def _get(self, name: str) -> Breaker:
        breaker = self._breakers.get(name)
        if breaker is None:
            breaker = self._breakers[name] = Breaker(name, Settings(), self.clock, listeners=self._listeners)
        return breaker

    async def allow(self, name: str, *, health: bool = False) -> bool:
        return self._get(name).allow(health=health)

    async def record_success(self, name: str) -> None:
        self._get(name).success()

    async def record_failure(self, name: str) -> None:
        self._get(name).failure()

    async def release(self, name: str) -> None:
        self._get(name).release()

    async def record_unanswered(self, name: str, *, ran: float, limit: float) -> bool:
        return self._get(name).unanswered(ran, limit)

    async def open_until(self, name: str, until: float, *, reason: str) -> None:
        self._get(name).open_until(until, reason)

    async def view(self, name: str) -> View:
        return self._get(name).view()

    async def open_for(self, name: str) -> float:
        return self._get(name).open_for()
