"""Cohere v1 (`/v1/rerank`): the client side, which also takes Jina's fields, and the provider side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from gateway.dialects import base, outbound
from gateway.dialects.outbound import bearer
from gateway.errors import GatewayError
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
    #: A gateway extension, for LLM rerankers that take a task instruction (SiliconFlow, DashScope).
    instruction: str | None = None


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
            instruction=wire.instruction,
        )

    def render(self, result: RerankResult, request: RerankRequest) -> Any:
        tokens = result.usage.input_tokens or 0
        return {
            "id": result.id,
            "model": result.model,
            "results": cohere_results(result, request),
            "meta": cohere_meta(result.usage, version="1"),
            "usage": {"total_tokens": tokens},
        }

    def render_error(self, error: GatewayError) -> Any:
        # Cohere clients read `message`, Jina clients read `detail`: give both.
        return {"message": error.message, "detail": error.message, **base.error_fields(error)}


def cohere_results(result: RerankResult, request: RerankRequest) -> list[dict[str, Any]]:
    """Cohere's `results[]`, with `document` (`{"text"}` or the object sent) when asked for."""
    if request.return_documents:
        return [
            {"index": r.index, "relevance_score": r.score, "document": base.echo_text(doc)}
            for r, doc in base.ResultView(result, request).rows()
        ]
    # The usual case: no document lookups, one dict per result.
    return [{"index": r.index, "relevance_score": r.score} for r in result.results]


def cohere_meta(usage: Usage, *, version: str) -> dict[str, Any]:
    """Cohere's `meta`: API version, billed units and tokens."""
    tokens = usage.input_tokens or 0
    return {
        "api_version": {"version": version},
        "billed_units": {"search_units": usage.search_units or 0, "input_tokens": tokens},
        "tokens": {"input_tokens": tokens, "output_tokens": 0},
    }


@attrs.frozen(kw_only=True)
class CohereProvider:
    """The provider side of Cohere v1: Bearer auth, `top_n`, object documents with `rank_fields`."""

    type: str = "cohere"
    path: str = "/v1/rerank"
    max_documents: int = 1000

    def headers(self, api_key: str | None) -> dict[str, str]:
        return bearer(api_key)

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        keys = ("documents", "top_n", "return_documents")
        return outbound.object_body(self.type, request, model=model, documents=documents, top_n=top_n, keys=keys)

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        return parse_results(body, count=count, expected=expected, usage=cohere_usage(body))


def parse_results(body: Any, *, count: int, expected: int, usage: Usage, container: str = "results") -> Ranking:
    """Read a `results[]` of `{index, relevance_score}` items, the shape most rerank APIs share."""
    return outbound.read(
        body, count=count, expected=expected, usage=usage, container=(container,), score="relevance_score"
    )


def cohere_usage(body: Any) -> Usage:
    """Cohere's `meta.billed_units` / `meta.tokens`, and the older top-level `tokens`."""
    meta = base.member(body, "meta")
    billed = base.member(meta, "billed_units")
    tokens = (
        base.count(base.member(meta, "tokens").get("input_tokens"))
        or base.count(billed.get("input_tokens"))
        or base.count(base.member(body, "tokens").get("input_tokens"))
    )
    return Usage(input_tokens=tokens, search_units=base.count(billed.get("search_units")))
