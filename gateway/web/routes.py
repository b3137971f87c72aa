"""The route table: every path the gateway serves, in one place."""

from __future__ import annotations

from aiohttp import web

from gateway.dialects import CLIENT_ROUTES
from gateway.web import admin, handlers, openapi


def setup(app: web.Application) -> None:
    """Add every route to `app`."""
    for path, dialect in CLIENT_ROUTES.items():
        app.router.add_post(path, handlers.rerank_handler(dialect))
    app.router.add_get("/v1/models", handlers.models)
    app.router.add_get("/healthz", handlers.healthz)
    app.router.add_get("/readyz", handlers.readyz)
    app.router.add_get("/admin/providers", admin.providers)
    app.router.add_get("/metrics", handlers.metrics)
    app.router.add_get("/openapi.json", openapi.handler)
