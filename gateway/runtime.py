"""Everything built from one config: providers, the router, the auth keys. Swapped whole on reload."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

import attrs

from gateway.config import ApiKey, Config, ProviderConfig
from gateway.dialects import PROVIDER_DIALECTS
from gateway.providers import Provider
from gateway.providers.http import HttpProvider
from gateway.providers.local import LocalProvider
from gateway.router import Attempts, Plan, Resilience, Router, Step
from gateway.router.health import HealthChecks, Target


@attrs.define
class Runtime:
    """The live objects for one config; `start` opens sessions, `close` releases them."""

    config: Config
    providers: Mapping[str, Provider]
    router: Router
    #: Process-wide breakers, budget and hedge slots: shared with the next runtime on reload.
    resilience: Resilience = attrs.field(factory=Resilience)
    health: HealthChecks | None = None

    async def start(self) -> None:
        for provider in self.providers.values():
            await provider.start()
        if self.health is not None:
            self.health.start()

    async def close(self) -> None:
        if self.health is not None:
            await self.health.stop()
        for provider in self.providers.values():
            await provider.close()

    @property
    def auth_required(self) -> bool:
        return self.config.auth is not None

    def key_name(self, presented: str) -> str | None:
        """The name of the gateway key matching `presented`, compared in constant time."""
        keys: tuple[ApiKey, ...] = self.config.auth.api_keys if self.config.auth else ()
        found = None
        for key in keys:
            # Compare against every key so the time taken says nothing about which one matched.
            if hmac.compare_digest(key.key.encode(), presented.encode()):
                found = key.name
        return found


def build(config: Config, *, attempts: Attempts | None = None, resilience: Resilience | None = None) -> Runtime:
    """Build providers and routing plans; disabled providers are left out of every plan.

    Pass the previous runtime's `resilience` on reload, so breakers keep their state.
    """
    attempts = attempts or Attempts()
    resilience = resilience or Resilience(clock=attempts.clock)
    resilience.configure(config)
    providers: dict[str, Provider] = {}
    for name, spec in config.providers.items():
        if not spec.disabled:
            providers[name] = _provider(name, spec, config)
    plans = {}
    for model, mc in config.models.items():
        steps = tuple(
            Step(
                provider=providers[r.provider],
                model=r.model,
                timeout=config.providers[r.provider].timeout,
                max_retries=config.providers[r.provider].max_retries,
                priority=i if r.priority is None else r.priority,
                weight=r.weight,
            )
            for i, r in enumerate(mc.providers)
            if r.provider in providers
        )
        plans[model] = Plan(steps=steps, timeout=mc.timeout or config.request_timeout, hedge=mc.hedge)
    router = Router(plans=plans, attempts=attempts, guard=resilience, max_timeout=config.resilience.max_request_timeout)
    health = _health(config, providers, resilience)
    return Runtime(config=config, providers=providers, router=router, resilience=resilience, health=health)


def rebuild(old: Runtime, config: Config) -> Runtime:
    """The runtime for a reloaded config, keeping the old one's breakers, budget and injected timing."""
    return build(config, attempts=old.router.attempts, resilience=old.resilience)


def _provider(name: str, spec: ProviderConfig, config: Config) -> Provider:
    if spec.type == "local":
        return LocalProvider(name)
    trust_env = config.resilience.trust_env if spec.trust_env is None else spec.trust_env
    return HttpProvider(name, PROVIDER_DIALECTS[spec.type], spec, trust_env=trust_env)


def _health(config: Config, providers: Mapping[str, Provider], resilience: Resilience) -> HealthChecks | None:
    """Health-check targets; the model asked is the configured one, else the first route's."""
    targets = {}
    for name, spec in config.providers.items():
        if spec.health_check is None or name not in providers:
            continue
        routes = [r.model for m in config.models.values() for r in m.providers if r.provider == name]
        model = spec.health_check.model if spec.health_check.model is not None else next(iter(routes), "")
        targets[name] = Target(provider=providers[name], model=model, config=spec.health_check)
    if not targets:
        return None
    return HealthChecks(targets=targets, breakers=resilience.breakers, clock=resilience.clock)
