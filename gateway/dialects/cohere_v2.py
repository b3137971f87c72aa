"""Cohere v2 (`/v2/rerank`): `ClientV2` and LangChain's `CohereRerank`, and the provider side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from gateway.dialects import base, outbound
from gateway.dialects.cohere import cohere_meta, cohere_results, cohere_usage, parse_results
from gateway.errors import BadRequest, GatewayError
from gateway.model import Document, Original, Ranking, RerankRequest, RerankResult


@attrs.frozen(kw_only=True)
class V2Body:
    """A Cohere v2 request; every optional field may be an explicit null, as the SDK sends them.

    `return_documents`, `rank_fields`, `max_chunks_per_doc` and object documents are from the
    5.11-5.15 SDKs, still accepted so pinned clients keep working.
    """

    model: str
    query: str
    documents: list[Original]
    top_n: int | None = None
    max_tokens_per_doc: int | None = None
    priority: int | None = None
    relevant_spans: dict[str, Any] | None = None
    return_documents: bool | None = None
    rank_fields: list[str] | None = None
    max_chunks_per_doc: int | None = None
    #: A gateway extension, for LLM rerankers that take a task instruction (SiliconFlow, DashScope).
    instruction: str | None = None


@attrs.frozen(kw_only=True)
class V2Client:
    """The client side of `/v2/rerank`: results carry only index and score unless documents are asked."""

    name: str = "cohere-v2"

    def parse(self, body: Any) -> RerankRequest:
        wire: V2Body = base.structure_client(body, V2Body)
        if wire.max_tokens_per_doc is not None and wire.max_tokens_per_doc < 1:
            raise BadRequest("$.max_tokens_per_doc: must be at least 1", field="$.max_tokens_per_doc")
        if wire.relevant_spans:
            # No provider returns spans; the answer then simply has none, which the API allows.
            outbound.log.debug("relevant_spans dropped", extra={"dialect": self.name})
        rank_fields = tuple(wire.rank_fields) if wire.rank_fields else None
        return RerankRequest(
            model=wire.model,
            query=base.check_query(wire.query),
            documents=base.documents_from(wire.documents, rank_fields=rank_fields),
            top_n=base.check_top_n(wire.top_n),
            return_documents=bool(wire.return_documents),
            rank_fields=rank_fields,
            max_tokens_per_doc=wire.max_tokens_per_doc,
            instruction=wire.instruction,
        )

    def render(self, result: RerankResult, request: RerankRequest) -> Any:
        return {
            "id": result.id,
            "results": cohere_results(result, request),
            "meta": cohere_meta(result.usage, version="2"),
        }

    def render_error(self, error: GatewayError) -> Any:
        return {"message": error.message, **base.error_fields(error)}


@attrs.frozen(kw_only=True)
class CohereV2Provider:
    """The provider side of Cohere v2: string documents only, `max_tokens_per_doc`."""

    type: str = "cohere-v2"
    path: str = "/v2/rerank"
    max_documents: int = 1000

    def headers(self, api_key: str | None) -> dict[str, str]:
        return outbound.bearer(api_key)

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        outbound.text_only(self.type, documents)
        outbound.dropped(self.type, request, "truncate", "instruction", "raw_scores")
        body: dict[str, Any] = {"model": model, "query": request.query, "documents": outbound.texts(documents)}
        if top_n is not None:
            body["top_n"] = top_n
        if request.max_tokens_per_doc is not None:
            body["max_tokens_per_doc"] = request.max_tokens_per_doc
        return body

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        return parse_results(body, count=count, expected=expected, usage=cohere_usage(body))
