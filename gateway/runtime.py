"""Everything built from one config: providers, the router, the auth keys. Swapped whole on reload."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

import attrs

from gateway import state as state_mod
from gateway.config import ApiKey, Config, ProviderConfig
from gateway.dialects import PROVIDER_DIALECTS
from gateway.dialects.scores import scaled
from gateway.model import RerankRequest
from gateway.providers import Provider
from gateway.providers.http import HttpProvider
from gateway.providers.local import LocalProvider
from gateway.router import Attempts, Plan, Resilience, Router, ScoreCache, Step
from gateway.router.health import HealthChecks, Target
from gateway.state import State, quotas


@attrs.define
class Runtime:
    """The live objects for one config; `start` opens sessions, `close` releases them."""

    config: Config
    providers: Mapping[str, Provider]
    router: Router
    #: Process-wide breakers, budget and hedge slots: shared with the next runtime on reload.
    resilience: Resilience = attrs.field(factory=Resilience)
    health: HealthChecks | None = None
    #: Shared state (quotas, cool-downs, scores); owned by the app, outlives a reload.
    state: State = attrs.field(factory=state_mod.memory)

    async def start(self) -> None:
        """Open the providers' sessions and start health checks; on failure, close what was opened."""
        try:
            for provider in self.providers.values():
                await provider.start()
            if self.health is not None:
                self.health.start()
        except BaseException:
            # A half-started runtime is dropped by its caller: it must not leak the sessions it opened.
            await self.close()
            raise

    def apply(self) -> None:
        """Put this config's breaker, budget, hedge and cool-down settings in force on the shared `resilience`.

        Building a runtime changes nothing shared; this does. Call it once this runtime is about to
        serve: at start-up, or on reload after `start` succeeded and right before the swap, so a
        config that fails to start never changes the settings the running one serves under.
        """
        # Shared cool-downs only mean something across replicas; alone, the breakers are the cool-downs.
        self.resilience.cooldowns = self.state.cooldowns if self.state.shared else None
        self.resilience.configure(self.config)

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
            if same_secret(key.key, presented):
                found = key.name
        return found

    async def admit(self, key_name: str | None, request: RerankRequest) -> None:
        """Apply the calling key's model allow-list and quotas; raise Forbidden or RateLimited."""
        keys = self.config.auth.api_keys if self.config.auth else ()
        key = next((k for k in keys if k.name == key_name), None) if key_name else None
        await quotas.admit(self.state.quotas, key, request)


def same_secret(expected: str, presented: str) -> bool:
    """Whether a presented key equals the configured one, compared in constant time.

    HTTP servers hand header bytes that are not UTF-8 on as surrogate escapes; encoding them back
    the same way gives the bytes the client sent, where a plain `encode()` would raise.
    """
    return hmac.compare_digest(expected.encode(), presented.encode("utf-8", "surrogateescape"))


def build(
    config: Config,
    *,
    attempts: Attempts | None = None,
    resilience: Resilience | None = None,
    state: State | None = None,
) -> Runtime:
    """Build providers and routing plans; disabled providers are left out of every plan.

    Pass the previous runtime's `resilience` and `state` on reload, so breakers, cool-downs and
    cached scores keep their state; `state` is the app's (started by its cleanup context).
    Building has no side effect on them: the config's failover settings take effect at `apply`.
    """
    attempts = attempts or Attempts()
    state = state or state_mod.build(config.state, config.cache)
    resilience = resilience or Resilience(clock=attempts.clock)
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
                cache_scope=cache_scope(r.provider, config.providers[r.provider], r.model),
            )
            for i, r in enumerate(mc.providers)
            if r.provider in providers
        )
        plans[model] = Plan(steps=steps, timeout=mc.timeout or config.request_timeout, hedge=mc.hedge)
    router = Router(
        plans=plans,
        attempts=attempts,
        guard=resilience,
        max_timeout=config.resilience.max_request_timeout,
        cache=ScoreCache(store=state.scores, counters=state.counters) if config.cache.enabled else None,
    )
    health = _health(config, providers, resilience)
    return Runtime(config=config, providers=providers, router=router, resilience=resilience, health=health, state=state)


def rebuild(old: Runtime, config: Config) -> Runtime:
    """The runtime for a reloaded config, keeping breakers, budget, shared state and injected timing.

    Nothing shared changes until the caller has started it and calls `apply`.
    """
    return build(config, attempts=old.router.attempts, resilience=old.resilience, state=old.state)


def cache_scope(name: str, spec: ProviderConfig, model: str) -> str | None:
    """Whose scores these are: the provider entry (name, type, URL, score mapping) and the upstream model.

    The local ranker is never cached: BM25 weighs a term by how many of *this request's*
    documents contain it, so its score for a document depends on the rest of the list.
    """
    if spec.type == "local" or not spec.cache:
        return None
    return "\x1f".join((name, spec.type, spec.url or spec.base_url or "", spec.scores, model))


def _provider(name: str, spec: ProviderConfig, config: Config) -> Provider:
    if spec.type == "local":
        return LocalProvider(name)
    trust_env = config.resilience.trust_env if spec.trust_env is None else spec.trust_env
    return HttpProvider(name, scaled(PROVIDER_DIALECTS[spec.type], spec.scores), spec, trust_env=trust_env)


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
