"""Together AI (`/v1/rerank`): Cohere-like, object documents with `rank_fields`, no extra fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from gateway.dialects import outbound
from gateway.dialects.vllm import parse_openai
from gateway.model import Document, Ranking, RerankRequest


@attrs.frozen(kw_only=True)
class TogetherProvider:
    """The provider side of Together: only the schema's fields (it forbids others), `usage.*_tokens`."""

    type: str = "together"
    path: str = "/v1/rerank"
    #: Not documented; Cohere's recommended bound.
    max_documents: int = 1000

    def headers(self, api_key: str | None) -> dict[str, str]:
        return outbound.bearer(api_key)

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        outbound.text_only(self.type, documents)
        outbound.dropped(self.type, request, "truncate", "max_tokens_per_doc", "instruction", "raw_scores")
        body: dict[str, Any] = {"model": model, "query": request.query}
        passed = outbound.objects(documents, request)
        if passed is not None:
            body["documents"], body["rank_fields"] = passed
        else:
            body["documents"] = outbound.texts(documents)
        if top_n is not None:
            body["top_n"] = top_n
        body["return_documents"] = False
        return body

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        return parse_openai(body, count=count, expected=expected)
