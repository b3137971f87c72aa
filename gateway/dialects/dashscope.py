"""Alibaba DashScope native text-rerank: `input` / `parameters`, answers in `output.results[]`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from gateway.dialects import outbound
from gateway.model import Document, Ranking, RerankRequest


@attrs.frozen(kw_only=True)
class DashScopeProvider:
    """The provider side of DashScope: `parameters.top_n`, `parameters.instruct`, 500 documents per call.

    DashScope truncates long inputs silently at 4,000 tokens; there is no knob to map `truncate` to.
    """

    type: str = "dashscope"
    path: str = "/api/v1/services/rerank/text-rerank/text-rerank"
    max_documents: int = 500

    def headers(self, api_key: str | None) -> dict[str, str]:
        return outbound.bearer(api_key)

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        # qwen3-vl-rerank takes images, but its document shape is not pinned down: text only for now.
        outbound.text_only(self.type, documents)
        outbound.dropped(self.type, request, "truncate", "max_tokens_per_doc", "raw_scores")
        parameters: dict[str, Any] = {"return_documents": False}
        if top_n is not None:
            parameters["top_n"] = top_n
        if request.instruction:
            parameters["instruct"] = request.instruction
        return {
            "model": model,
            "input": {"query": request.query, "documents": outbound.texts(documents)},
            "parameters": parameters,
        }

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        usage = outbound.token_usage(body, ("usage", "total_tokens"))
        return outbound.read(
            body, count=count, expected=expected, usage=usage, container=("output", "results"), score="relevance_score"
        )
