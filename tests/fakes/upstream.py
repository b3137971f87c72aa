"""A fake upstream rerank provider: a real aiohttp server that speaks one dialect exactly.

Each request takes the next behaviour from `script` (then `default`); behaviours cover the ways
real providers fail: statuses with headers, hangs, resets, bad JSON, wrong shapes, bad scores.
Scores are deterministic per document text, so every fake ranks the same documents the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from collections.abc import Callable
from typing import Any

import attrs
import orjson
from aiohttp import web


def det_score(query: str, text: str) -> float:
    """A deterministic score in (0, 1) for a (query, document) pair, the same in every fake."""
    if text.casefold() == query.casefold():
        return 1.0  # an exact match ranks first, as with any real reranker (health checks rely on it)
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


def raw(
    body: bytes, *, content_type: str = "application/json", code: int = 200, headers: dict[str, str] | None = None
) -> Behaviour:
    """Answer with exactly these bytes (and these extra headers, such as Content-Encoding)."""
    return Behaviour("raw", status=code, headers={"Content-Type": content_type, **(headers or {})}, body=body)


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
    #: Requests the caller gave up on while this fake was still working on them.
    cancelled: int = 0

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
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _json({"message": "invalid api token"}, 401)
        try:
            if b.delay:
                await asyncio.sleep(b.delay)
            if b.kind == "hang":
                await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
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
        items = [{"index": i, "score": det_score(query, d)} for i, d in enumerate(docs)]
        items.sort(key=lambda r: (-r["score"], r["index"]))
        if top_n:
            items = items[:top_n]
        answer = WRITERS[self.dialect](items, docs)
        if kind == "nan":
            text = orjson.dumps(answer).decode()
            first = str(items[0]["score"])
            return web.Response(text=text.replace(first, "NaN", 1), content_type="application/json")
        if kind in ("short", "out_of_range", "duplicate", "bool_index", "string_score"):
            container, score_key = CONTAINERS[self.dialect]
            target = answer if container is None else answer[container]
            broken = _broken(kind, list(target), score_key)
            answer = broken if container is None else {**answer, container: broken}
        return _json(answer, 200)


def _json(payload: Any, code: int) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=code, content_type="application/json")


def _docs(body: dict[str, Any], key: str = "documents") -> list[str]:
    return [d if isinstance(d, str) else d.get("text", orjson.dumps(d).decode()) for d in body[key]]


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
