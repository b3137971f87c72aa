"""Everything built from one config: providers, the router, the auth keys. Swapped whole on reload."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

import attrs

from gateway.config import ApiKey, Config
from gateway.dialects import PROVIDER_DIALECTS
from gateway.dialects.scores import scaled
from gateway.providers import Provider
from gateway.providers.http import HttpProvider
from gateway.providers.local import LocalProvider
from gateway.router import Attempts, Plan, Router, Step


@attrs.define
class Runtime:
    """The live objects for one config; `start` opens sessions, `close` releases them."""

    config: Config
    providers: Mapping[str, Provider]
    router: Router

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


def build(config: Config, *, attempts: Attempts | None = None) -> Runtime:
    """Build providers and routing plans; disabled providers are left out of every plan."""
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
            )
            for r in mc.providers
            if r.provider in providers
        )
        plans[model] = Plan(steps=steps, timeout=mc.timeout or config.request_timeout)
    router = Router(plans=plans, attempts=attempts or Attempts())
    return Runtime(config=config, providers=providers, router=router)
