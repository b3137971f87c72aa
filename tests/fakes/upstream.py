"""A fake upstream rerank provider: a real aiohttp server that speaks one dialect exactly.

Each request takes the next behaviour from `script` (then `default`); behaviours cover the ways
real providers fail: statuses with headers, hangs, resets, bad JSON, wrong shapes, bad scores.
Scores are deterministic per document text, so every fake ranks the same documents the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import orjson
from aiohttp import web


def det_score(query: str, text: str) -> float:
    """A deterministic score in (0, 1) for a (query, document) pair, the same in every fake."""
    digest = hashlib.sha256(f"{query}\x00{text}".encode()).digest()
    return (int.from_bytes(digest[:4], "big") % 999_983 + 1) / 1_000_000


@attrs.frozen
class Behaviour:
    """What the fake does with one request; see the factory functions below."""

    kind: str
    status: int = 200
    headers: dict[str, str] = attrs.field(factory=dict)
    body: bytes | None = None
    delay: float = 0.0


def ok(delay: float = 0.0) -> Behaviour:
    """Answer correctly (after `delay` seconds)."""
    return Behaviour("ok", delay=delay)


def status(code: int, *, headers: dict[str, str] | None = None, body: Any = None) -> Behaviour:
    """Answer with an HTTP status, headers and a JSON body (the dialect's error envelope by default)."""
    raw = orjson.dumps(body) if body is not None else None
    return Behaviour("status", status=code, headers=headers or {}, body=raw)


def raw(body: bytes, *, content_type: str = "application/json", code: int = 200) -> Behaviour:
    """Answer with exactly these bytes."""
    return Behaviour("raw", status=code, headers={"Content-Type": content_type}, body=body)


def hang() -> Behaviour:
    """Accept the request and never answer."""
    return Behaviour("hang")


def reset() -> Behaviour:
    """Close the connection without answering."""
    return Behaviour("reset")


def mangle(kind: str) -> Behaviour:
    """Answer 200 with a broken result list: `short`, `out_of_range`, `duplicate`, `bool_index`, `nan`, `huge`."""
    return Behaviour(kind)


Mangler = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def _broken(kind: str, items: list[dict[str, Any]], score_key: str) -> list[dict[str, Any]] | None:
    if kind == "short":
        return items[:-1]
    if kind == "out_of_range":
        return [*items[:-1], {**items[-1], "index": 10_000}]
    if kind == "duplicate":
        return [*items[:-1], {**items[-1], "index": items[0]["index"]}]
    if kind == "bool_index":
        return [{**items[0], "index": True}, *items[1:]]
    if kind == "string_score":
        return [{**items[0], score_key: "0.5"}, *items[1:]]
    return None


@attrs.define
class FakeUpstream:
    """State of one fake provider: its dialect, its script, what it received."""

    dialect: str
    api_key: str | None = None
    script: deque[Behaviour] = attrs.field(factory=deque)
    default: Behaviour = attrs.field(factory=ok)
    received: list[dict[str, Any]] = attrs.field(factory=list)
    headers_seen: list[dict[str, str]] = attrs.field(factory=list)

    def then(self, *behaviours: Behaviour) -> FakeUpstream:
        """Queue behaviours for the next requests, in order."""
        self.script.extend(behaviours)
        return self

    @property
    def calls(self) -> int:
        """How many requests reached this fake."""
        return len(self.headers_seen)

    def app(self) -> web.Application:
        """The aiohttp application serving this fake at its dialect's path."""
        app = web.Application()
        app.router.add_post(PATHS[self.dialect], self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.headers_seen.append(dict(request.headers))
        body = await request.json()
        self.received.append(body)
        b = self.script.popleft() if self.script else self.default
        if self.api_key is not None and not AUTH.get(self.dialect, _bearer)(request.headers, self.api_key):
            return _json(ERRORS[self.dialect]("invalid api key"), 401)
        refusal = _refusal(self.dialect, body, request.headers)
        if refusal is not None:
            return _json(ERRORS[self.dialect](refusal), 400 if self.dialect != "tei" else 422)
        if b.delay:
            await asyncio.sleep(b.delay)
        if b.kind == "hang":
            await asyncio.sleep(3600)
        if b.kind == "reset":
            assert request.transport is not None
            request.transport.close()
            raise asyncio.CancelledError
        if b.kind == "status":
            payload = b.body if b.body is not None else orjson.dumps(ERRORS[self.dialect](f"fake error {b.status}"))
            return web.Response(body=payload, status=b.status, headers=b.headers, content_type="application/json")
        if b.kind == "raw":
            return web.Response(body=b.body, status=b.status, headers=b.headers)
        return self._answer(body, b.kind)

    def _answer(self, body: dict[str, Any], kind: str) -> web.Response:
        query, docs, top_n = READERS[self.dialect](body)
        items: list[dict[str, Any]] = [{"index": i, "score": det_score(query, d)} for i, d in enumerate(docs)]
        items.sort(key=lambda r: (-r["score"], r["index"]))
        if top_n:
            items = items[:top_n]
        if self.dialect in ECHO and ECHO[self.dialect](body):
            items = [{**r, "text": docs[r["index"]]} for r in items]
        answer = WRITERS[self.dialect](items, docs)
        container, score_key = CONTAINERS[self.dialect]
        if kind == "nan":
            text = orjson.dumps(answer).decode()
            first = orjson.dumps(_rows(answer, container)[0][score_key]).decode()
            return web.Response(text=text.replace(first, "NaN", 1), content_type="application/json")
        if kind in ("short", "out_of_range", "duplicate", "bool_index", "string_score"):
            broken = _broken(kind, list(_rows(answer, container)), score_key)
            answer = _with_rows(answer, container, broken)
        return _json(answer, 200)


def _rows(answer: Any, container: str | None) -> Any:
    """The result list of an answer; `container` may be nested (`output.results`) or None (bare array)."""
    for key in container.split(".") if container else ():
        answer = answer[key]
    return answer


def _with_rows(answer: Any, container: str | None, rows: Any) -> Any:
    if not container:
        return rows
    key, _, rest = container.partition(".")
    return {**answer, key: _with_rows(answer[key], rest or None, rows)}


def _bearer(headers: Mapping[str, str], key: str) -> bool:
    return headers.get("Authorization") == f"Bearer {key}"


def _refusal(dialect: str, body: dict[str, Any], headers: Mapping[str, str]) -> str | None:
    """Why the fake refuses a request as its real server would (stricter on unknown fields), or None."""
    unknown = set(body) - FIELDS.get(dialect, set(body))
    if unknown:
        return f"unknown field(s): {', '.join(sorted(unknown))}"
    for header in REQUIRED_HEADERS.get(dialect, ()):
        if header not in headers:
            return f"missing header {header}"
    count = len(READERS[dialect](body)[1])
    if count > LIMITS.get(dialect, count):
        return f"{count} documents is over the limit of {LIMITS[dialect]}"
    if dialect == "infinity" and body.get("top_n") == 0:
        return "top_n must be greater than 0"
    return None


def _json(payload: Any, code: int) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=code, content_type="application/json")


def _docs(body: dict[str, Any], key: str = "documents") -> list[str]:
    fields = body.get("rank_fields")
    return [d if isinstance(d, str) else _ranked_text(d, fields) for d in body[key]]


def _ranked_text(doc: dict[str, Any], fields: list[str] | None) -> str:
    """What a server ranks in an object document: its rank_fields (one: the value), else `text`."""
    if not fields:
        return str(doc.get("text", orjson.dumps(doc).decode()))
    if len(fields) == 1:
        return str(doc.get(fields[0], ""))
    return "\n".join(f"{f}: {doc[f]}" for f in fields if f in doc)


# --- the dialects, as ../shared/reference/rerank-apis.md describes them ---------------------------

PATHS: dict[str, str] = {"cohere": "/v1/rerank", "jina": "/v1/rerank", "siliconflow": "/v1/rerank"}

READERS: dict[str, Callable[[dict[str, Any]], tuple[str, list[str], int | None]]] = {
    "cohere": lambda b: (b["query"], _docs(b), b.get("top_n")),
    "jina": lambda b: (b["query"], _docs(b), b.get("top_n")),
    "siliconflow": lambda b: (b["query"], _docs(b), b.get("top_n")),
}

WRITERS: dict[str, Callable[[list[dict[str, Any]], list[str]], Any]] = {
    "cohere": lambda items, docs: {
        "id": "fake-cohere",
        "results": [{"index": r["index"], "relevance_score": r["score"]} for r in items],
        "meta": {"api_version": {"version": "1"}, "billed_units": {"search_units": 1}},
    },
    "jina": lambda items, docs: {
        "model": "jina-fake",
        "usage": {"total_tokens": 10 * len(docs)},
        "results": [
            {"index": r["index"], "relevance_score": r["score"], "document": {"text": docs[r["index"]]}} for r in items
        ],
    },
    "siliconflow": lambda items, docs: {
        "id": "fake-sf",
        "results": [{"index": r["index"], "relevance_score": r["score"]} for r in items],
        "meta": {
            "tokens": {"input_tokens": 7 * len(docs), "output_tokens": 0},
            "billed_units": {"input_tokens": 7 * len(docs), "output_tokens": 0, "search_units": 0},
        },
    },
}

#: (container key or None for a bare array, score key) per dialect.
CONTAINERS: dict[str, tuple[str | None, str]] = {
    "cohere": ("results", "relevance_score"),
    "jina": ("results", "relevance_score"),
    "siliconflow": ("results", "relevance_score"),
}

ERRORS: dict[str, Callable[[str], Any]] = {
    "cohere": lambda m: {"message": m},
    "jina": lambda m: {"detail": m},
    "siliconflow": lambda m: {"code": 20012, "message": m, "data": None},
}

# --- the other provider types (issue 3) -----------------------------------------------------------


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


PATHS.update(
    {
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
)

READERS.update(
    {
        "cohere-v2": lambda b: (b["query"], _texts(b["documents"]), b.get("top_n")),
        "voyage": lambda b: (b["query"], _texts(b["documents"]), b.get("top_k")),
        "vllm": lambda b: (b["query"], _texts(b["documents"]), _some(b.get("top_n"))),
        "tei": lambda b: (b["query"], _texts(b["texts"]), None),
        "infinity": lambda b: (b["query"], _texts(b["documents"]), b.get("top_n")),
        "together": lambda b: (b["query"], _docs(b), b.get("top_n")),
        "mixedbread": lambda b: (b["query"], _docs(b, "input"), _some(b.get("top_k"))),
        "nvidia": lambda b: (b["query"]["text"], [p["text"] for p in b["passages"]], None),
        "dashscope": lambda b: (b["input"]["query"], _texts(b["input"]["documents"]), b["parameters"].get("top_n")),
        "pinecone": lambda b: (
            b["query"],
            [_ranked_text(d, b.get("rank_fields")) for d in b["documents"]],
            b.get("top_n"),
        ),
    }
)

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


WRITERS.update(
    {
        "cohere-v2": lambda items, docs: {
            "id": "fake-cohere-v2",
            "results": [{"index": r["index"], "relevance_score": r["score"]} for r in items],
            "meta": {"api_version": {"version": "2", "is_experimental": False}, "billed_units": {"search_units": 1}},
        },
        "voyage": lambda items, docs: {
            "object": "list",
            "data": [
                _with({"relevance_score": r["score"], "index": r["index"]}, "document", r.get("text")) for r in items
            ],
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
            "data": [
                _with({"index": r["index"], "score": r["score"]}, "document", {"text": r.get("text")}) for r in items
            ],
            "usage": {"rerank_units": 1},
        },
    }
)

CONTAINERS.update(
    {
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
)

ERRORS.update(
    {
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
)

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
