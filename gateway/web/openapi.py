"""The OpenAPI 3.1 document of every route, served at `GET /openapi.json`.

Written as data. Rerank routes come from the route table (`CLIENT_ROUTES`), each described by its
client dialect's entry in `DIALECTS`: a new route in a known dialect needs nothing here, a new
dialect needs one entry in `DIALECTS` (and its schemas in `SCHEMAS`), and any other route one
entry in `ROUTES`. A test checks the document against the app's router, both ways.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import orjson
from aiohttp import web

from gateway import __version__
from gateway.dialects import ClientDialect
from gateway.web.keys import ROUTE_DIALECTS

JSON = "application/json"
Json = dict[str, Any]


def ref(name: str) -> Json:
    """A `$ref` to a schema in `components.schemas`."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: str, description: str) -> Json:
    """A JSON response with a named schema."""
    return {"description": description, "content": {JSON: {"schema": ref(schema)}}}


_STRING_OR_OBJECT = {"oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": True}]}
_NULLABLE_INT = {"type": ["integer", "null"]}

SCHEMAS: dict[str, Json] = {
    "RerankRequest": {
        "type": "object",
        "description": "A Cohere v1 / Jina rerank request. Unknown fields are refused with a 400.",
        "required": ["model", "query", "documents"],
        "additionalProperties": False,
        "properties": {
            "model": {"type": "string", "description": "A model name from GET /v1/models."},
            "query": {"type": "string", "minLength": 1, "description": "Must not be empty or only whitespace."},
            "documents": {
                "type": "array",
                "minItems": 1,
                "items": _STRING_OR_OBJECT,
                "description": "Strings, or objects with a string `text` (or the fields named by `rank_fields`).",
            },
            "top_n": {"type": ["integer", "null"], "minimum": 1, "description": "Default: every document."},
            "return_documents": {"type": ["boolean", "null"]},
            "rank_fields": {"type": ["array", "null"], "items": {"type": "string"}},
            "max_chunks_per_doc": _NULLABLE_INT,
        },
    },
    "RerankResponse": {
        "type": "object",
        "required": ["id", "model", "results", "meta"],
        "properties": {
            "id": {"type": "string"},
            "model": {"type": "string"},
            "results": {
                "type": "array",
                "description": "Sorted by relevance_score, highest first.",
                "items": {
                    "type": "object",
                    "required": ["index", "relevance_score"],
                    "properties": {
                        "index": {"type": "integer", "minimum": 0},
                        "relevance_score": {"type": "number"},
                        "document": {"type": "object"},
                    },
                },
            },
            "meta": {"type": "object"},
            "usage": {"type": "object", "properties": {"total_tokens": {"type": "integer"}}},
        },
    },
    "Error": {
        "type": "object",
        "description": "Errors carry `message` (Cohere clients) and `detail` (Jina clients).",
        "required": ["message", "type"],
        "properties": {
            "message": {"type": "string"},
            "detail": {"type": "string"},
            "type": {"type": "string", "description": "A stable code: invalid_request, not_found, ..."},
            "field": {"type": "string", "description": "JSON path of the offending field."},
            "attempts": {"type": "array", "items": ref("Attempt")},
        },
    },
    "Attempt": {
        "type": "object",
        "required": ["provider", "outcome"],
        "properties": {
            "provider": {"type": "string"},
            "outcome": {"type": "string"},
            "status": {"type": ["integer", "null"]},
            "duration_ms": {"type": "number"},
        },
    },
    "ModelList": {
        "type": "object",
        "required": ["object", "data"],
        "properties": {
            "object": {"const": "list"},
            "data": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "object"],
                    "properties": {"id": {"type": "string"}, "object": {"const": "model"}, "type": {"type": "string"}},
                },
            },
        },
    },
    "AnyObject": {"type": "object"},
    "Status": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"enum": ["ok", "ready", "starting", "draining"]}},
    },
}


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
        summary="Rerank, Cohere v1 style (Jina requests accepted too)",
        request="RerankRequest",
        response="RerankResponse",
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
    "413": "Too many documents, or the body is too large.",
    "429": "The gateway key is over its quota.",
    "502": "Every provider failed; `attempts` lists each try.",
    "503": "No provider is available or every provider is overloaded.",
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


async def handler(request: web.Request) -> web.Response:
    """`GET /openapi.json`: the document for this app's routes."""
    body = orjson.dumps(document(request.app[ROUTE_DIALECTS]))
    return web.Response(body=body, content_type=JSON)
