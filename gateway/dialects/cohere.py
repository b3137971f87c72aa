"""Cohere v1 (`/v1/rerank`): the client side, which also takes Jina's fields, and the provider side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from gateway.dialects import base
from gateway.errors import GatewayError, InvalidResponse
from gateway.model import Document, Original, Ranking, RerankRequest, RerankResult, Usage


@attrs.frozen(kw_only=True)
class RerankBody:
    """A Cohere v1 or Jina request, as clients send it to `/v1/rerank`."""

    query: str
    documents: list[Original]
    model: str
    top_n: int | None = None
    return_documents: bool | None = None
    rank_fields: list[str] | None = None
    max_chunks_per_doc: int | None = None


# Mutable on purpose: an Item lives only inside parse_results, and a frozen attrs __init__ costs
# twice as much (~3.8k vs ~1.6k instructions), paid once per document of every answer.
@attrs.define
class Item:
    """One result as Cohere-shaped providers send it."""

    index: int
    relevance_score: float


@attrs.frozen
class ResultsAnswer:
    """A Cohere-shaped answer: `results[]` (what matters; the rest is read leniently)."""

    results: list[Item]


@attrs.frozen(kw_only=True)
class V1Client:
    """The client side of `/v1/rerank`: Cohere v1 and Jina requests, an answer both SDKs parse."""

    name: str = "cohere"
    return_documents_default: bool = False

    def parse(self, body: Any) -> RerankRequest:
        wire: RerankBody = base.structure_client(body, RerankBody)
        rank_fields = tuple(wire.rank_fields) if wire.rank_fields else None
        return RerankRequest(
            model=wire.model,
            query=base.check_query(wire.query),
            documents=base.documents_from(wire.documents, rank_fields=rank_fields),
            top_n=base.check_top_n(wire.top_n),
            return_documents=self.return_documents_default if wire.return_documents is None else wire.return_documents,
            rank_fields=rank_fields,
        )

    def render(self, result: RerankResult, request: RerankRequest) -> Any:
        results: list[dict[str, Any]]
        if request.return_documents:
            results = [
                {"index": r.index, "relevance_score": r.score, "document": base.echo_text(doc)}
                for r, doc in base.ResultView(result, request).rows()
            ]
        else:  # the usual case: no document lookups, one dict per result
            results = [{"index": r.index, "relevance_score": r.score} for r in result.results]
        tokens = result.usage.input_tokens or 0
        return {
            "id": result.id,
            "model": result.model,
            "results": results,
            "meta": {
                "api_version": {"version": "1"},
                "billed_units": {"search_units": result.usage.search_units or 0, "input_tokens": tokens},
                "tokens": {"input_tokens": tokens, "output_tokens": 0},
            },
            "usage": {"total_tokens": tokens},
        }

    def render_error(self, error: GatewayError) -> Any:
        # Cohere clients read `message`, Jina clients read `detail`: give both.
        body: dict[str, Any] = {"message": error.message, "detail": error.message, "type": error.code}
        field = getattr(error, "field", None)
        if field:
            body["field"] = field
        attempts = base.attempts_json(error)
        if attempts is not None:
            body["attempts"] = attempts
        return body


@attrs.frozen(kw_only=True)
class CohereProvider:
    """The provider side of Cohere v1: Bearer auth, `top_n`, `results[]`, `meta.billed_units`."""

    type: str = "cohere"
    path: str = "/v1/rerank"
    max_documents: int = 1000
    echo_flag: bool = True

    def headers(self, api_key: str | None) -> dict[str, str]:
        return bearer(api_key)

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        body: dict[str, Any] = {"model": model, "query": request.query}
        if request.rank_fields and any(isinstance(d.original, dict) for d in documents):
            body["documents"] = [d.original for d in documents]
            body["rank_fields"] = list(request.rank_fields)
        else:
            body["documents"] = [d.text for d in documents]
        if top_n is not None:
            body["top_n"] = top_n
        if self.echo_flag:
            body["return_documents"] = False
        return body

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        return parse_results(body, count=count, expected=expected, usage=cohere_usage(body))


def bearer(api_key: str | None) -> dict[str, str]:
    """The `Authorization: Bearer` header most providers use; nothing when there is no key."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def parse_results(body: Any, *, count: int, expected: int, usage: Usage, container: str = "results") -> Ranking:
    """Read a `results[]` of `{index, relevance_score}` items, the shape most rerank APIs share."""
    if not isinstance(body, dict) or not isinstance(body.get(container), list):
        raise InvalidResponse(f"$.{container}: expected an array")
    wire: ResultsAnswer = base.structure_provider({"results": body[container]}, ResultsAnswer)
    pairs = ((item.index, item.relevance_score) for item in wire.results)
    return base.ranking(pairs, count=count, expected=expected, usage=usage)


def cohere_usage(body: Any) -> Usage:
    """Cohere's `meta.billed_units` / `meta.tokens`, and the older top-level `tokens`."""
    tokens = (
        base.number(body, "meta", "tokens", "input_tokens")
        or base.number(body, "meta", "billed_units", "input_tokens")
        or base.number(body, "tokens", "input_tokens")
    )
    return Usage(input_tokens=tokens, search_units=base.number(body, "meta", "billed_units", "search_units"))
