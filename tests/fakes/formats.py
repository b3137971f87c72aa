"""Wire formats of the provider types the fake upstream speaks beyond Cohere, Jina and SiliconFlow.

Each table is keyed by provider type, as ../shared/reference/rerank-apis.md describes the API;
upstream.py merges them into its own tables.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import orjson

Reader = Callable[[dict[str, Any]], tuple[str, list[str], int | None]]
Writer = Callable[[list[dict[str, Any]], list[str]], Any]


def ranked_text(doc: dict[str, Any], fields: list[str] | None) -> str:
    """What a server ranks in an object document: its rank_fields (one: the value), else `text`."""
    if not fields:
        return str(doc.get("text", orjson.dumps(doc).decode()))
    if len(fields) == 1:
        return str(doc.get(fields[0], ""))
    return "\n".join(f"{f}: {doc[f]}" for f in fields if f in doc)


def docs_text(body: dict[str, Any], key: str = "documents") -> list[str]:
    """The text a server ranks for each document of `body[key]`, honouring `rank_fields`."""
    fields = body.get("rank_fields")
    return [d if isinstance(d, str) else ranked_text(d, fields) for d in body[key]]


def _tokens(docs: list[str]) -> int:
    """The token count every token-reporting fake gives: 10 per document."""
    return 10 * len(docs)


def _logit(p: float) -> float:
    """The raw logit whose sigmoid is `p`: NIM answers these."""
    return math.log(p / (1 - p))


def _texts(items: list[Any]) -> list[str]:
    """Document texts from strings, `{text}` objects, or vLLM `{"content": [parts]}`."""
    out = []
    for d in items:
        if isinstance(d, str):
            out.append(d)
        elif "content" in d:
            out.append("\n".join(p["text"] for p in d["content"] if p["type"] == "text"))
        else:
            out.append(d["text"])
    return out


def _some(value: Any) -> int | None:
    """A top-k where 0 or -1 mean all."""
    return value if isinstance(value, int) and value > 0 else None


PATHS: dict[str, str] = {
    "cohere-v2": "/v2/rerank",
    "voyage": "/v1/rerank",
    "vllm": "/rerank",
    "tei": "/rerank",
    "infinity": "/rerank",
    "together": "/v1/rerank",
    "mixedbread": "/v1/reranking",
    "nvidia": "/v1/ranking",
    "dashscope": "/api/v1/services/rerank/text-rerank/text-rerank",
    "pinecone": "/rerank",
}

READERS: dict[str, Reader] = {
    "cohere-v2": lambda b: (b["query"], _texts(b["documents"]), b.get("top_n")),
    "voyage": lambda b: (b["query"], _texts(b["documents"]), b.get("top_k")),
    "vllm": lambda b: (b["query"], _texts(b["documents"]), _some(b.get("top_n"))),
    "tei": lambda b: (b["query"], _texts(b["texts"]), None),
    "infinity": lambda b: (b["query"], _texts(b["documents"]), b.get("top_n")),
    "together": lambda b: (b["query"], docs_text(b), b.get("top_n")),
    "mixedbread": lambda b: (b["query"], docs_text(b, "input"), _some(b.get("top_k"))),
    "nvidia": lambda b: (b["query"]["text"], [p["text"] for p in b["passages"]], None),
    "dashscope": lambda b: (b["input"]["query"], _texts(b["input"]["documents"]), b["parameters"].get("top_n")),
    "pinecone": lambda b: (
        b["query"],
        [ranked_text(d, b.get("rank_fields")) for d in b["documents"]],
        b.get("top_n"),
    ),
}

#: Items carry `text` when the request asked for documents back (or the server always returns them).
ECHO: dict[str, Callable[[dict[str, Any]], bool]] = {
    "voyage": lambda b: bool(b.get("return_documents")),
    "vllm": lambda b: True,
    "tei": lambda b: bool(b.get("return_text")),
    "infinity": lambda b: bool(b.get("return_documents")),
    "together": lambda b: bool(b.get("return_documents")),
    "mixedbread": lambda b: bool(b.get("return_input")),
    "dashscope": lambda b: bool(b["parameters"].get("return_documents")),
    "pinecone": lambda b: b.get("return_documents", True) is not False,
}


def _with(item: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    return {**item, key: value} if "text" in item else item


WRITERS: dict[str, Writer] = {
    "cohere-v2": lambda items, docs: {
        "id": "fake-cohere-v2",
        "results": [{"index": r["index"], "relevance_score": r["score"]} for r in items],
        "meta": {"api_version": {"version": "2", "is_experimental": False}, "billed_units": {"search_units": 1}},
    },
    "voyage": lambda items, docs: {
        "object": "list",
        "data": [_with({"relevance_score": r["score"], "index": r["index"]}, "document", r.get("text")) for r in items],
        "model": "rerank-2.5",
        "usage": {"total_tokens": _tokens(docs)},
    },
    "vllm": lambda items, docs: {
        "id": "rerank-fake",
        "model": "BAAI/bge-reranker-v2-m3",
        "usage": {"prompt_tokens": _tokens(docs), "total_tokens": _tokens(docs)},
        "results": [
            {
                "index": r["index"],
                "document": {"text": r["text"], "multi_modal": None},
                "relevance_score": r["score"],
            }
            for r in items
        ],
    },
    "tei": lambda items, docs: [
        _with({"index": r["index"]}, "text", r.get("text")) | {"score": r["score"]} for r in items
    ],
    "infinity": lambda items, docs: {
        "object": "rerank",
        "id": "infinity-fake",
        "created": 1760000000,
        "model": "mixedbread-ai/mxbai-rerank-xsmall-v1",
        "results": [
            _with({"relevance_score": r["score"], "index": r["index"]}, "document", r.get("text")) for r in items
        ],
        "usage": {"prompt_tokens": _tokens(docs), "total_tokens": _tokens(docs)},
    },
    "together": lambda items, docs: {
        "object": "rerank",
        "id": "together-fake",
        "model": "salesforce/turboranker-0.8-3778-6328",
        "results": [
            {"index": r["index"], "relevance_score": r["score"], "document": {"text": r.get("text")}} for r in items
        ],
        "usage": {"prompt_tokens": _tokens(docs), "completion_tokens": 0, "total_tokens": _tokens(docs)},
    },
    "mixedbread": lambda items, docs: {
        "object": "list",
        "model": "mixedbread-ai/mxbai-rerank-large-v2",
        "data": [
            _with({"index": r["index"], "score": r["score"], "object": "rank_result"}, "input", r.get("text"))
            for r in items
        ],
        "usage": {"prompt_tokens": _tokens(docs), "total_tokens": _tokens(docs)},
        "top_k": len(items),
        "return_input": any("text" in r for r in items),
    },
    "nvidia": lambda items, docs: {
        "rankings": [{"index": r["index"], "logit": _logit(r["score"])} for r in items],
        "usage": {"prompt_tokens": _tokens(docs), "total_tokens": _tokens(docs)},
    },
    "dashscope": lambda items, docs: {
        "output": {
            "results": [
                _with({"index": r["index"], "relevance_score": r["score"]}, "document", {"text": r.get("text")})
                for r in items
            ]
        },
        "usage": {"total_tokens": _tokens(docs)},
        "request_id": "fake-dashscope",
    },
    "pinecone": lambda items, docs: {
        "model": "bge-reranker-v2-m3",
        "data": [_with({"index": r["index"], "score": r["score"]}, "document", {"text": r.get("text")}) for r in items],
        "usage": {"rerank_units": 1},
    },
}

CONTAINERS: dict[str, tuple[str | None, str]] = {
    "cohere-v2": ("results", "relevance_score"),
    "voyage": ("data", "relevance_score"),
    "vllm": ("results", "relevance_score"),
    "tei": (None, "score"),
    "infinity": ("results", "relevance_score"),
    "together": ("results", "relevance_score"),
    "mixedbread": ("data", "score"),
    "nvidia": ("rankings", "logit"),
    "dashscope": ("output.results", "relevance_score"),
    "pinecone": ("data", "score"),
}

ERRORS: dict[str, Callable[[str], Any]] = {
    "cohere-v2": lambda m: {"message": m},
    "voyage": lambda m: {"detail": m},
    "vllm": lambda m: {"error": {"message": m, "type": "BadRequestError", "param": None, "code": 400}},
    "tei": lambda m: {"error": m, "error_type": "Validation"},
    "infinity": lambda m: {"error": {"message": m, "type": None, "param": None, "code": 400}},
    "together": lambda m: {"error": {"message": m, "type": "invalid_request_error", "param": None, "code": None}},
    "mixedbread": lambda m: {"message": m},  # the reference marks Mixedbread's envelope unverified
    "nvidia": lambda m: {"detail": m},  # unverified too; FastAPI's default
    "dashscope": lambda m: {"code": "InvalidParameter", "message": m, "request_id": "fake-dashscope"},
    "pinecone": lambda m: {"error": {"code": "INVALID_ARGUMENT", "message": m}, "status": 400},
}

#: How each fake checks the key (default: `Authorization: Bearer <key>`).
AUTH: dict[str, Callable[[Mapping[str, str], str], bool]] = {
    "pinecone": lambda headers, key: headers.get("Api-Key") == key,
}

REQUIRED_HEADERS: dict[str, tuple[str, ...]] = {"pinecone": ("X-Pinecone-API-Version",)}

#: Documents per call each server accepts by default (TEI's --max-client-batch-size, ...).
LIMITS: dict[str, int] = {
    "tei": 32,
    "infinity": 2048,
    "voyage": 1000,
    "mixedbread": 1000,
    "dashscope": 500,
    "pinecone": 200,
}

#: The documented request fields; the fakes refuse others (only Together really does: a check on the gateway).
FIELDS: dict[str, set[str]] = {
    "cohere": {"model", "query", "documents", "top_n", "rank_fields", "return_documents", "max_chunks_per_doc"},
    "cohere-v2": {"model", "query", "documents", "top_n", "max_tokens_per_doc", "priority"},
    "jina": {"model", "query", "documents", "top_n", "return_documents"},
    "voyage": {"query", "documents", "model", "top_k", "return_documents", "truncation"},
    "siliconflow": {"model", "query", "documents", "instruction", "top_n", "return_documents", "max_chunks_per_doc"},
    "vllm": {"model", "query", "documents", "top_n", "truncate_prompt_tokens", "use_activation", "priority"},
    "tei": {"query", "texts", "truncate", "truncation_direction", "raw_scores", "return_text"},
    "infinity": {"model", "query", "documents", "top_n", "return_documents", "raw_scores"},
    "together": {"model", "query", "documents", "top_n", "return_documents", "rank_fields"},
    "mixedbread": {"model", "query", "input", "rank_fields", "top_k", "return_input", "rewrite_query"},
    "nvidia": {"model", "query", "passages", "truncate"},
    "dashscope": {"model", "input", "parameters"},
    "pinecone": {"model", "query", "documents", "top_n", "return_documents", "rank_fields", "parameters"},
}
