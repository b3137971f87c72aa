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
from gateway.router import Attempts, Plan, Router, ScoreCache, Step
from gateway.state import State, quotas


@attrs.define
class Runtime:
    """The live objects for one config; `start` opens sessions, `close` releases them."""

    config: Config
    providers: Mapping[str, Provider]
    router: Router
    #: Shared state (quotas, cool-downs, scores); owned by the app, outlives a reload.
    state: State = attrs.field(factory=state_mod.memory)

    async def start(self) -> None:
        for provider in self.providers.values():
            await provider.start()

    async def close(self) -> None:
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

    async def admit(self, key_name: str | None, request: RerankRequest) -> None:
        """Apply the calling key's model allow-list and quotas; raise Forbidden or RateLimited."""
        keys = self.config.auth.api_keys if self.config.auth else ()
        key = next((k for k in keys if k.name == key_name), None) if key_name else None
        await quotas.admit(self.state.quotas, key, request)


def build(config: Config, *, attempts: Attempts | None = None, state: State | None = None) -> Runtime:
    """Build providers and routing plans; disabled providers are left out of every plan.

    `state` is the app's (started by its cleanup context); without one, state stays in process.
    """
    state = state or state_mod.build(config.state, config.cache)
    providers: dict[str, Provider] = {}
    for name, spec in config.providers.items():
        if spec.disabled:
            continue
        if spec.type == "local":
            providers[name] = LocalProvider(name)
        else:
            providers[name] = HttpProvider(name, scaled(PROVIDER_DIALECTS[spec.type], spec.scores), spec)
    plans = {}
    for model, mc in config.models.items():
        steps = tuple(
            Step(
                provider=providers[r.provider],
                model=r.model,
                timeout=config.providers[r.provider].timeout,
                max_retries=config.providers[r.provider].max_retries,
                cache_scope=cache_scope(r.provider, config.providers[r.provider], r.model),
            )
            for r in mc.providers
            if r.provider in providers
        )
        plans[model] = Plan(steps=steps, timeout=mc.timeout or config.request_timeout)
    router = Router(
        plans=plans,
        attempts=attempts or Attempts(),
        cache=ScoreCache(store=state.scores, counters=state.counters) if config.cache.enabled else None,
        cooldowns=state.cooldowns,
        max_cooldown=config.state.max_cooldown,
    )
    return Runtime(config=config, providers=providers, router=router, state=state)


def cache_scope(name: str, spec: ProviderConfig, model: str) -> str | None:
    """Whose scores these are: the provider entry (name, type, URL) and the upstream model.

    The local ranker is never cached: BM25 weighs a term by how many of *this request's*
    documents contain it, so its score for a document depends on the rest of the list.
    """
    if spec.type == "local" or not spec.cache:
        return None
    return "\x1f".join((name, spec.type, spec.url or spec.base_url or "", spec.scores, model))
