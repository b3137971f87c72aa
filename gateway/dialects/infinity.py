"""Infinity (`/rerank`, often behind a `/v1` prefix): Cohere-aligned, `top_n` must be above 0."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from gateway.dialects import outbound
from gateway.dialects.vllm import parse_openai
from gateway.model import Document, Ranking, RerankRequest


@attrs.frozen(kw_only=True)
class InfinityProvider:
    """The provider side of Infinity: string documents, `raw_scores`, 2,048 documents per call."""

    type: str = "infinity"
    path: str = "/rerank"
    max_documents: int = 2048

    def headers(self, api_key: str | None) -> dict[str, str]:
        return outbound.bearer(api_key)

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        outbound.text_only(self.type, documents)
        outbound.dropped(self.type, request, "truncate", "max_tokens_per_doc", "instruction")
        body: dict[str, Any] = {
            "model": model,
            "query": request.query,
            "documents": outbound.texts(documents),
            "return_documents": False,
        }
        # Infinity rejects `top_n: 0` with 422: "all" is the field left out.
        if top_n is not None:
            body["top_n"] = top_n
        if request.raw_scores:
            body["raw_scores"] = True
        return body

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        return parse_openai(body, count=count, expected=expected)
