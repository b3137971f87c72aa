"""Voyage AI (`/v1/rerank`): `top_k`, `truncation`, answers in `data[]` with `usage.total_tokens`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from gateway.dialects import base, outbound
from gateway.errors import GatewayError
from gateway.model import Document, Ranking, RerankRequest, RerankResult


@attrs.frozen(kw_only=True)
class VoyageBody:
    """A Voyage request; the voyageai SDK always sends `top_k` (null for all) and `truncation`."""

    query: str
    documents: list[str]
    model: str
    top_k: int | None = None
    return_documents: bool | None = None
    truncation: bool | None = None


@attrs.frozen(kw_only=True)
class VoyageClient:
    """The client side of Voyage: `data[]`, a plain-string `document`, always `usage.total_tokens`."""

    name: str = "voyage"

    def parse(self, body: Any) -> RerankRequest:
        wire: VoyageBody = base.structure_client(body, VoyageBody)
        return RerankRequest(
            model=wire.model,
            query=base.check_query(wire.query),
            documents=base.documents_from(wire.documents, rank_fields=None),
            top_n=base.check_top_n(wire.top_k, path="$.top_k"),
            return_documents=bool(wire.return_documents),
            truncate=wire.truncation,
        )

    def render(self, result: RerankResult, request: RerankRequest) -> Any:
        data = []
        for r, doc in base.ResultView(result, request).rows():
            item: dict[str, Any] = {"relevance_score": r.score, "index": r.index}
            if request.return_documents:
                item["document"] = doc.text
            data.append(item)
        # The voyageai SDK reads usage.total_tokens unconditionally: always an integer, 0 if unknown.
        tokens = result.usage.input_tokens or 0
        return {"object": "list", "data": data, "model": result.model, "usage": {"total_tokens": tokens}}

    def render_error(self, error: GatewayError) -> Any:
        return {"detail": error.message, **base.error_fields(error)}


@attrs.frozen(kw_only=True)
class VoyageProvider:
    """The provider side of Voyage: Bearer auth, `top_k`, `truncation`, 1,000 documents per call."""

    type: str = "voyage"
    path: str = "/v1/rerank"
    max_documents: int = 1000

    def headers(self, api_key: str | None) -> dict[str, str]:
        return outbound.bearer(api_key)

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        outbound.text_only(self.type, documents)
        # rerank-2.5 reads instructions inside the query; folding one in would change the query
        # for this provider only, so it is dropped like everywhere else without a field for it.
        outbound.dropped(self.type, request, "max_tokens_per_doc", "instruction", "raw_scores")
        body: dict[str, Any] = {"query": request.query, "documents": outbound.texts(documents), "model": model}
        if top_n is not None:
            body["top_k"] = top_n
        if request.truncate is not None:
            body["truncation"] = request.truncate
        return body

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        usage = outbound.token_usage(body, ("usage", "total_tokens"))
        return outbound.read(
            body, count=count, expected=expected, usage=usage, container=("data",), score="relevance_score"
        )
