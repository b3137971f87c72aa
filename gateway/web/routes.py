"""The route table: every path the gateway serves, in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.dialects import CLIENT_ROUTES
from gateway.web import admin, handlers, openapi
from gateway.web.call import Answer, Call

#: Every GET route (the rerank routes are POSTs, one per client dialect: CLIENT_ROUTES).
GET_ROUTES: dict[str, Callable[[Call], Awaitable[Answer]]] = {
    "/v1/models": handlers.models,
    "/healthz": handlers.healthz,
    "/readyz": handlers.readyz,
    "/admin/providers": admin.providers,
    "/metrics": handlers.metrics,
    "/openapi.json": openapi.handler,
}


def setup(app: web.Application) -> None:
    """Add every route to `app`."""
    for path, dialect in CLIENT_ROUTES.items():
        app.router.add_post(path, handlers.rerank_handler(dialect))
    for path, handler in GET_ROUTES.items():
        app.router.add_get(path, handlers.for_aiohttp(handler))
