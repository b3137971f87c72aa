"""The JSON schemas of the OpenAPI document: every request, answer and error envelope."""

from __future__ import annotations

from typing import Any

JSON = "application/json"
Json = dict[str, Any]


def ref(name: str) -> Json:
    """A `$ref` to a schema in `components.schemas`."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: str, description: str) -> Json:
    """A JSON response with a named schema."""
    return {"description": description, "content": {JSON: {"schema": ref(schema)}}}


def ranked(*, score: str = "relevance_score", **extra: Json) -> Json:
    """An array of ranked results: `index` and the dialect's score field, plus optional fields."""
    properties: Json = {"index": {"type": "integer", "minimum": 0}, score: {"type": "number"}, **extra}
    return {
        "type": "array",
        "description": f"Sorted by {score}, highest first.",
        "items": {"type": "object", "required": ["index", score], "properties": properties},
    }


_STRING_OR_OBJECT = {"oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": True}]}
_NULLABLE_INT = {"type": ["integer", "null"]}
_TEXT = {
    "type": "object",
    "required": ["text"],
    "additionalProperties": False,
    "properties": {"text": {"type": "string"}},
}

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
            "results": ranked(document={"type": "object"}),
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
    "V2Request": {
        "type": "object",
        "description": "A Cohere v2 rerank request; explicit nulls mean the defaults.",
        "required": ["model", "query", "documents"],
        "additionalProperties": False,
        "properties": {
            "model": {"type": "string"},
            "query": {"type": "string", "minLength": 1},
            "documents": {"type": "array", "minItems": 1, "items": _STRING_OR_OBJECT},
            "top_n": {"type": ["integer", "null"], "minimum": 1},
            "max_tokens_per_doc": _NULLABLE_INT,
            "priority": _NULLABLE_INT,
            "relevant_spans": {"type": ["object", "null"]},
            "return_documents": {"type": ["boolean", "null"]},
            "rank_fields": {"type": ["array", "null"], "items": {"type": "string"}},
            "max_chunks_per_doc": _NULLABLE_INT,
            "instruction": {"type": ["string", "null"]},
        },
    },
    "VoyageRequest": {
        "type": "object",
        "description": "A Voyage rerank request (`top_k`, `truncation`).",
        "required": ["model", "query", "documents"],
        "additionalProperties": False,
        "properties": {
            "model": {"type": "string"},
            "query": {"type": "string", "minLength": 1},
            "documents": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            "top_k": {"type": ["integer", "null"], "minimum": 1},
            "return_documents": {"type": ["boolean", "null"]},
            "truncation": {"type": ["boolean", "null"]},
        },
    },
    "VoyageResponse": {
        "type": "object",
        "required": ["object", "data", "model", "usage"],
        "properties": {
            "object": {"const": "list"},
            "model": {"type": "string"},
            "data": ranked(document={"type": "string"}),
            "usage": {
                "type": "object",
                "required": ["total_tokens"],
                "properties": {"total_tokens": {"type": "integer"}},
            },
        },
    },
    "TeiRequest": {
        "type": "object",
        "description": "A TEI rerank request (`texts`); `model` is optional.",
        "required": ["query", "texts"],
        "additionalProperties": False,
        "properties": {
            "query": {"type": "string", "minLength": 1},
            "texts": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            "truncate": {"type": ["boolean", "null"]},
            "truncation_direction": {"enum": ["Right", "Left", "right", "left", None]},
            "raw_scores": {"type": ["boolean", "null"]},
            "return_text": {"type": ["boolean", "null"]},
            "model": {"type": ["string", "null"]},
        },
    },
    "TeiResponse": ranked(score="score", text={"type": "string"}) | {"description": "A bare array, sorted by score."},
    "VllmRequest": {
        "type": "object",
        "description": "A vLLM / Infinity rerank request (`documents`); `top_n: 0` means all.",
        "required": ["query", "documents"],
        "additionalProperties": False,
        "properties": {
            "query": {"type": "string", "minLength": 1},
            "documents": {"type": "array", "minItems": 1, "items": _STRING_OR_OBJECT},
            "model": {"type": ["string", "null"]},
            "top_n": {"type": ["integer", "null"], "minimum": 0},
            "return_documents": {"type": ["boolean", "null"]},
            "raw_scores": {"type": ["boolean", "null"]},
            "use_activation": {"type": ["boolean", "null"]},
            "truncate_prompt_tokens": _NULLABLE_INT,
            "priority": _NULLABLE_INT,
            "request_id": {"type": ["string", "null"]},
            "user": {"type": ["string", "null"]},
            "instruction": {"type": ["string", "null"]},
        },
    },
    "VllmResponse": {
        "type": "object",
        "required": ["id", "model", "usage", "results"],
        "properties": {
            "id": {"type": "string"},
            "object": {"type": "string"},
            "model": {"type": "string"},
            "usage": {"type": "object"},
            "results": ranked(document={"type": "object"}),
        },
    },
    "RankingRequest": {
        "type": "object",
        "description": "An NVIDIA NIM ranking request.",
        "required": ["model", "query", "passages"],
        "additionalProperties": False,
        "properties": {
            "model": {"type": "string"},
            "query": _TEXT,
            "passages": {"type": "array", "minItems": 1, "items": _TEXT},
            "truncate": {"enum": ["NONE", "END", None]},
            "top_k": {"type": ["integer", "null"], "minimum": 1},
        },
    },
    "RankingResponse": {
        "type": "object",
        "required": ["rankings"],
        "properties": {
            "rankings": ranked(score="logit"),
            "usage": {"type": "object"},
        },
    },
    "V2Response": {
        "type": "object",
        "required": ["id", "results", "meta"],
        "properties": {
            "id": {"type": "string"},
            "results": ranked(),
            "meta": {"type": "object"},
        },
    },
    "V1OrVoyageRequest": {"anyOf": [ref("RerankRequest"), ref("VoyageRequest")]},
    "V1OrVoyageResponse": {"anyOf": [ref("RerankResponse"), ref("VoyageResponse")]},
    "TeiOrVllmRequest": {"anyOf": [ref("TeiRequest"), ref("VllmRequest")]},
    "TeiOrVllmResponse": {"anyOf": [ref("TeiResponse"), ref("VllmResponse")]},
    "ErrorMessage": {
        "type": "object",
        "description": "Cohere's envelope.",
        "required": ["message"],
        "properties": {"message": {"type": "string"}, "type": {"type": "string"}, "field": {"type": "string"}},
    },
    "ErrorDetail": {
        "type": "object",
        "description": "Voyage's and NIM's (FastAPI-style) envelope.",
        "required": ["detail"],
        "properties": {"detail": {"type": "string"}, "type": {"type": "string"}, "field": {"type": "string"}},
    },
    "TeiError": {
        "type": "object",
        "required": ["error", "error_type"],
        "properties": {"error": {"type": "string"}, "error_type": {"type": "string"}},
    },
    "VllmError": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message", "code"],
                "properties": {"message": {"type": "string"}, "type": {"type": "string"}, "code": {"type": "integer"}},
            }
        },
    },
    "TeiOrVllmError": {"anyOf": [ref("TeiError"), ref("VllmError")]},
    "V1OrVoyageError": {"anyOf": [ref("Error"), ref("ErrorDetail")]},
    "AnyObject": {"type": "object"},
    "Status": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"enum": ["ok", "ready", "starting", "draining"]}},
    },
}
