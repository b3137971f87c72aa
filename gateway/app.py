"""`create_app(config)`: the wiring of routes, middlewares and resources, and nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from gateway import runtime as runtime_mod
from gateway.config import Config
from gateway.dialects import CLIENT_ROUTES
from gateway.metrics import Metrics
from gateway.router import Attempts
from gateway.web import middlewares, routes
from gateway.web.keys import LIVE, METRICS, ROUTE_DIALECTS, Live


def create_app(config: Config, *, attempts: Attempts | None = None) -> web.Application:
    """Build the gateway application for `config`; `attempts` lets tests inject sleep and clock."""
    app = web.Application(
        middlewares=[middlewares.edge, middlewares.auth],
        client_max_size=config.limits.max_body_bytes,
    )
    app[LIVE] = Live(runtime_mod.build(config, attempts=attempts))
    app[ROUTE_DIALECTS] = CLIENT_ROUTES
    app[METRICS] = Metrics()
    routes.setup(app)
    app.cleanup_ctx.append(_providers)
    return app


async def _providers(app: web.Application) -> AsyncIterator[None]:
    """Open the providers' pooled sessions before traffic and close them after.

    Startup hooks run before the server listens and no request can arrive before then, so ready
    from here on means: config loaded, providers open, and listening.
    """
    live = app[LIVE]
    await live.current.start()
    live.ready = True
    yield
    live.ready = False
    await live.current.close()
