"""`create_app(config)`: the wiring of routes, middlewares and resources, and nothing else."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from aiohttp import web

from gateway import runtime as runtime_mod
from gateway import state as state_mod
from gateway.config import Config
from gateway.dialects import CLIENT_ROUTES
from gateway.metrics import Metrics
from gateway.router import Attempts, Resilience
from gateway.web import middlewares, routes
from gateway.web.inflight import BytesInFlight
from gateway.web.keys import BYTES_IN_FLIGHT, LIVE, METRICS, ROUTE_DIALECTS, STATE, Live


def create_app(
    config: Config, *, attempts: Attempts | None = None, resilience: Resilience | None = None
) -> web.Application:
    """Build the gateway application for `config`; `attempts` and `resilience` let tests inject time."""
    app = web.Application(
        middlewares=[middlewares.edge],
        client_max_size=config.limits.max_body_bytes,
    )
    clock = attempts.clock if attempts is not None else time.monotonic
    app[STATE] = state_mod.build(config.state, config.cache, clock=clock)
    first = runtime_mod.build(config, attempts=attempts, resilience=resilience, state=app[STATE])
    first.apply()  # nothing serves yet, so the first config's failover settings take effect at once
    app[LIVE] = Live(first)
    app[ROUTE_DIALECTS] = CLIENT_ROUTES
    app[METRICS] = Metrics()
    app[BYTES_IN_FLIGHT] = BytesInFlight()
    app[METRICS].watch_bytes_in_flight(app[BYTES_IN_FLIGHT])
    app[METRICS].watch_state(app[STATE].counters.snapshot)
    # Breakers outlive reloads (the runtime hands them on), so one subscription lasts.
    app[LIVE].current.resilience.breakers.subscribe(app[METRICS].breaker_changed)
    app[METRICS].breakers_configured(dict.fromkeys(first.providers, "closed"))  # none has run yet
    routes.setup(app)
    app.cleanup_ctx.append(_state)
    app.cleanup_ctx.append(_providers)
    return app


async def _state(app: web.Application) -> AsyncIterator[None]:
    """Open the Redis pool (if any) before traffic and close it after the providers."""
    await app[STATE].start()
    yield
    await app[STATE].close()


async def _providers(app: web.Application) -> AsyncIterator[None]:
    """Open the providers' pooled sessions (and start health checks) before traffic; stop them after.

    Startup hooks run before the server listens and no request can arrive before then, so ready
    from here on means: config loaded, providers open, and listening.
    """
    live = app[LIVE]
    await live.current.start()
    live.ready = True
    yield
    live.ready = False
    await live.current.close()
