"""Pinecone Inference (`/rerank`): `Api-Key` auth with an API version, object documents, `data[]` / `score`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from gateway.dialects import base, outbound
from gateway.model import Document, Ranking, RerankRequest, Usage

#: The API version sent unless the provider's `headers` config sets another.
API_VERSION = "2025-10"


@attrs.frozen(kw_only=True)
class PineconeProvider:
    """The provider side of Pinecone: documents as objects, `parameters.truncate`, 200 per call.

    200 is cohere-rerank-3.5's limit, the smallest documented; raise `max_documents` for other models.
    """

    type: str = "pinecone"
    path: str = "/rerank"
    max_documents: int = 200

    def headers(self, api_key: str | None) -> dict[str, str]:
        auth = {"Api-Key": api_key} if api_key else {}
        return {**auth, "X-Pinecone-API-Version": API_VERSION}

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        outbound.text_only(self.type, documents)
        outbound.dropped(self.type, request, "max_tokens_per_doc", "instruction", "raw_scores")
        body: dict[str, Any] = {"model": model, "query": request.query}
        passed = outbound.objects(documents, request)
        if passed is not None:
            body["documents"], body["rank_fields"] = passed
        else:
            # Pinecone documents are objects; its default ranked field is `text`.
            body["documents"] = [{"text": d.text} for d in documents]
        if top_n is not None:
            body["top_n"] = top_n
        body["return_documents"] = False
        if request.truncate is not None:
            body["parameters"] = {"truncate": "END" if request.truncate else "NONE"}
        return body

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        # A rerank unit is defined like Cohere's search unit: one query over up to 100 documents.
        usage = Usage(search_units=base.number(body, "usage", "rerank_units"))
        return outbound.read(body, count=count, expected=expected, usage=usage, container=("data",), score="score")
