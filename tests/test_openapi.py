"""The OpenAPI 3.1 document at /openapi.json: valid, and in step with the routes the gateway serves."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from openapi_spec_validator import OpenAPIV31SpecValidator

from gateway.dialects import CLIENT_ROUTES
from gateway.web.openapi import DIALECTS
from tests.conftest import StartGateway, model

CONFIG = {"providers": {"l": {"type": "local"}}, "models": {"m": model(("l", "bm25"))}}
METHODS = {"get", "post", "put", "patch", "delete"}


async def served(
    start_gateway: StartGateway, config: dict[str, Any] = CONFIG
) -> tuple[dict[str, Any], TestClient[Any, Any]]:
    """The document as served, and the client of the gateway that served it."""
    client = await start_gateway(config)
    resp = await client.get("/openapi.json")
    assert resp.status == 200
    assert resp.content_type == "application/json"
    return await resp.json(), client


async def test_document_is_valid_openapi_3_1(start_gateway: StartGateway) -> None:
    """openapi-spec-validator accepts the served document as OpenAPI 3.1."""
    doc, _ = await served(start_gateway)
    assert doc["openapi"] == "3.1.0"
    OpenAPIV31SpecValidator(doc).validate()


async def test_every_route_is_documented_and_nothing_else(start_gateway: StartGateway) -> None:
    """The document's (method, path) pairs are exactly the app's routes."""
    doc, client = await served(start_gateway)
    routes = {
        (r.method.lower(), r.resource.canonical)
        for r in client.app.router.routes()
        if r.resource is not None and r.method.lower() in METHODS
    }
    documented = {(method, path) for path, item in doc["paths"].items() for method in item if method in METHODS}
    assert documented == routes


async def test_probes_and_metrics_need_no_key(start_gateway: StartGateway) -> None:
    """With auth on, the document marks the operational routes public, and they are."""
    doc, client = await served(start_gateway, {**CONFIG, "auth": {"api_keys": [{"name": "a", "key": "k"}]}})
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert doc["paths"][path]["get"]["security"] == []
        assert (await client.get(path)).status == 200
    assert {"gatewayKey": []} in doc["security"]
    assert (await client.get("/v1/models")).status == 401


def test_every_client_dialect_has_its_own_description() -> None:
    """Each client dialect in the route table has a DIALECTS entry, not the loose fallback."""
    assert {d.name for d in CLIENT_ROUTES.values()} <= set(DIALECTS)
