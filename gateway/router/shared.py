"""Process-wide failover state that outlives a config reload: breakers, retry budget, hedge slots."""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs

from gateway.config import Config
from gateway.router.breaker import Breakers, MemoryBreakers, Settings
from gateway.router.budget import RetryBudget
from gateway.state import CooldownStore


@attrs.define
class HedgeSlots:
    """A process-wide cap on hedged attempts running at once; never waits, a full cap means no hedge."""

    limit: int = 32
    in_use: int = 0

    def try_acquire(self) -> bool:
        """Take a slot if one is free."""
        if self.in_use >= self.limit:
            return False
        self.in_use += 1
        return True

    def release(self) -> None:
        """Give a slot back."""
        self.in_use -= 1


@attrs.define
class Resilience:
    """The state every request shares; a reload passes the old one to the new runtime."""

    clock: Callable[[], float] = time.monotonic
    breakers: Breakers = attrs.field(default=attrs.Factory(lambda self: MemoryBreakers(self.clock), takes_self=True))
    budget: RetryBudget = attrs.field(
        default=attrs.Factory(lambda self: RetryBudget(clock=self.clock), takes_self=True)
    )
    hedges: HedgeSlots = attrs.field(factory=HedgeSlots)
    #: Providers another replica found down or rate limited (Redis state); None in a lone process,
    #: where the breakers already are the cool-downs.
    cooldowns: CooldownStore | None = None
    #: Upper bound (seconds) on a cool-down shared with other replicas.
    max_cooldown: float = 300.0

    def configure(self, config: Config) -> None:
        """Apply a (new) config; breakers of providers that still exist keep their state."""
        r = config.resilience
        self.max_cooldown = config.state.max_cooldown
        self.budget.configure(r.retry_budget)
        self.hedges.limit = r.max_hedges
        self.breakers.configure(
            {
                name: Settings(config=p.breaker or r.breaker, health_probes=p.health_check is not None)
                for name, p in config.providers.items()
                if not p.disabled
            }
        )
