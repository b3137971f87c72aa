"""SiliconFlow (`/v1/rerank`): Cohere-like, usage in `meta.tokens` (older: top-level `tokens`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from gateway.dialects.cohere import bearer, cohere_usage, parse_results
from gateway.model import Document, Ranking, RerankRequest


@attrs.frozen(kw_only=True)
class SiliconFlowProvider:
    """The provider side of SiliconFlow: Bearer auth, `top_n`, optional `instruction`."""

    type: str = "siliconflow"
    path: str = "/v1/rerank"
    max_documents: int = 1000

    def headers(self, api_key: str | None) -> dict[str, str]:
        return bearer(api_key)

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        body: dict[str, Any] = {
            "model": model,
            "query": request.query,
            "documents": [d.text for d in documents],
            "return_documents": False,
        }
        if top_n is not None:
            body["top_n"] = top_n
        if request.instruction:
            body["instruction"] = request.instruction
        return body

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        return parse_results(body, count=count, expected=expected, usage=cohere_usage(body))
