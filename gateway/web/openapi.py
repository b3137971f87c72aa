"""The OpenAPI 3.1 document of every route, served at `GET /openapi.json`.

Written as data. Rerank routes come from the route table (`CLIENT_ROUTES`), each described by its
client dialect's entry in `DIALECTS`: a new route in a known dialect needs nothing here, a new
dialect needs one entry in `DIALECTS` (and its schemas in `SCHEMAS`), and any other route one
entry in `ROUTES`. A test checks the document against the app's router, both ways.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import orjson

from gateway import __version__
from gateway.dialects import ClientDialect
from gateway.web.call import Answer, Call
from gateway.web.keys import ROUTE_DIALECTS
from gateway.web.schemas import JSON, SCHEMAS, Json, json_body, ref


@attrs.frozen(kw_only=True)
class DialectDoc:
    """How one client dialect's rerank route is documented."""

    summary: str
    request: str
    response: str
    error: str = "Error"


#: One entry per client dialect name (`ClientDialect.name`).
DIALECTS: dict[str, DialectDoc] = {
    "cohere": DialectDoc(
        summary="Rerank, Cohere v1 style (Jina requests too; Voyage ones when they carry top_k or truncation)",
        request="V1OrVoyageRequest",
        response="V1OrVoyageResponse",
        error="V1OrVoyageError",
    ),
    "cohere-v2": DialectDoc(
        summary="Rerank, Cohere v2 style", request="V2Request", response="V2Response", error="ErrorMessage"
    ),
    "voyage": DialectDoc(
        summary="Rerank, Voyage style", request="VoyageRequest", response="VoyageResponse", error="ErrorDetail"
    ),
    "tei": DialectDoc(
        summary="Rerank, TEI style (`texts`) or vLLM / Infinity style (`documents`)",
        request="TeiOrVllmRequest",
        response="TeiOrVllmResponse",
        error="TeiOrVllmError",
    ),
    "nvidia": DialectDoc(
        summary="Ranking, NVIDIA NIM style", request="RankingRequest", response="RankingResponse", error="ErrorDetail"
    ),
    "jina": DialectDoc(
        summary="Rerank, Jina style (documents returned by default)",
        request="RerankRequest",
        response="RerankResponse",
    ),
}

_ERRORS = {
    "400": "The request is malformed; `field` names the culprit.",
    "401": "A gateway key is required (when the config has `auth`).",
    "404": "No such model.",
    "408": "The body did not all arrive within the longest deadline a request may have.",
    "413": "Too many documents, or the body is too large.",
    "429": "The gateway key is over its quota.",
    "502": "Every provider failed; `attempts` lists each try.",
    "503": "No provider is available, every provider is overloaded, or the gateway had no room for the body in time.",
    "504": "The request deadline passed.",
}


def rerank_operation(doc: DialectDoc, *, path: str) -> Json:
    """The `post` operation of a rerank route in one dialect."""
    responses: Json = {"200": json_body(doc.response, "Results, sorted by score.")}
    responses.update({code: json_body(doc.error, text) for code, text in _ERRORS.items()})
    return {
        "summary": doc.summary,
        "description": "An optional `x-request-timeout` header (seconds) shortens the request deadline.",
        "operationId": "rerank" + path.replace("/", "_").replace(".", "_"),
        "tags": ["rerank"],
        "requestBody": {"required": True, "content": {JSON: {"schema": ref(doc.request)}}},
        "responses": responses,
    }


def _probe(summary: str, codes: Mapping[str, str]) -> Json:
    return {
        "get": {
            "summary": summary,
            "tags": ["operations"],
            "security": [],
            "responses": {code: json_body("Status", text) for code, text in codes.items()},
        }
    }


#: Every route that is not a rerank route: one entry each.
ROUTES: dict[str, Json] = {
    "/v1/models": {
        "get": {
            "summary": "The models this gateway serves",
            "tags": ["rerank"],
            "responses": {"200": json_body("ModelList", "The model list."), "401": json_body("Error", "No key.")},
        }
    },
    "/admin/providers": {
        "get": {
            "summary": "Each provider's type, state and circuit breaker (admin key when auth is on)",
            "tags": ["operations"],
            "responses": {
                "200": json_body("AnyObject", "Providers and their breakers."),
                "401": json_body("Error", "No or wrong key."),
                "403": json_body("Error", "Not the admin key."),
            },
        }
    },
    "/healthz": _probe("Liveness: the process serves", {"200": "Alive."}),
    "/readyz": _probe("Readiness: listening and not draining", {"200": "Ready.", "503": "Starting or draining."}),
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics",
            "tags": ["operations"],
            "security": [],
            "responses": {"200": {"description": "Text format.", "content": {"text/plain": {"schema": {}}}}},
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "tags": ["operations"],
            "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1.", "content": {JSON: {"schema": {"type": "object"}}}}},
        }
    },
}


def document(routes: Mapping[str, ClientDialect]) -> Json:
    """The whole OpenAPI document for a gateway serving `routes` (path -> client dialect)."""
    paths: Json = {path: {"post": rerank_operation(_doc_of(d.name), path=path)} for path, d in routes.items()}
    paths.update(ROUTES)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Rerank Gateway",
            "version": __version__,
            "description": "One rerank API in front of many rerank providers.",
        },
        "tags": [{"name": "rerank"}, {"name": "operations"}],
        # Keys are checked only when the config has an `auth` section; hence the empty alternative.
        "security": [{"gatewayKey": []}, {}],
        "components": {
            "securitySchemes": {"gatewayKey": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": paths,
    }


#: For a dialect added without its entry: still served, loosely described (a test asks for the entry).
_UNDESCRIBED = DialectDoc(summary="Rerank", request="AnyObject", response="AnyObject")


def _doc_of(dialect: str) -> DialectDoc:
    return DIALECTS.get(dialect, _UNDESCRIBED)


async def handler(call: Call) -> Answer:
    """`GET /openapi.json`: the document for this app's routes."""
    return Answer(200, orjson.dumps(document(call.app[ROUTE_DIALECTS])), {"Content-Type": JSON})
