"""A fake upstream rerank provider: a real aiohttp server that speaks one dialect exactly.

Each request takes the next behaviour from `script` (then `default`); behaviours cover the ways
real providers fail: statuses with headers, hangs, resets, bad JSON, wrong shapes, bad scores.
Scores are deterministic per document text, so every fake ranks the same documents the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import orjson
from aiohttp import web

from tests.fakes import formats
from tests.fakes.formats import AUTH, ECHO, FIELDS, LIMITS, REQUIRED_HEADERS


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
        if self.api_key is not None and not AUTH.get(self.dialect, _bearer)(request.headers, self.api_key):
            return _json(ERRORS[self.dialect]("invalid api key"), 401)
        refusal = _refusal(self.dialect, body, request.headers)
        if refusal is not None:
            return _json(ERRORS[self.dialect](refusal), 400 if self.dialect != "tei" else 422)
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
    return formats.docs_text(body, key)


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


# The other provider types (issue 3) live in formats.py, so this module stays a readable size.
PATHS.update(formats.PATHS)
READERS.update(formats.READERS)
WRITERS.update(formats.WRITERS)
CONTAINERS.update(formats.CONTAINERS)
ERRORS.update(formats.ERRORS)
