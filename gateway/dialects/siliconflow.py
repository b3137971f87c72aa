"""SiliconFlow (`/v1/rerank`): Cohere-like, usage in `meta.tokens` (older: top-level `tokens`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from gateway.dialects import outbound
from gateway.dialects.cohere import cohere_usage, parse_results
from gateway.model import Document, Ranking, RerankRequest


@attrs.frozen(kw_only=True)
class SiliconFlowProvider:
    """The provider side of SiliconFlow: Bearer auth, `top_n`, optional `instruction` (Qwen3)."""

    type: str = "siliconflow"
    path: str = "/v1/rerank"
    max_documents: int = 1000

    def headers(self, api_key: str | None) -> dict[str, str]:
        return outbound.bearer(api_key)

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        # SiliconFlow has multimodal rerankers, but their document shape is not documented: text only.
        outbound.text_only(self.type, documents)
        outbound.dropped(self.type, request, "truncate", "max_tokens_per_doc", "raw_scores")
        body: dict[str, Any] = {
            "model": model,
            "query": request.query,
            "documents": outbound.texts(documents),
            "return_documents": False,
        }
        if top_n is not None:
            body["top_n"] = top_n
        if request.instruction:
            body["instruction"] = request.instruction
        return body

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        return parse_results(body, count=count, expected=expected, usage=cohere_usage(body))
