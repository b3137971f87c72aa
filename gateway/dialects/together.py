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
        keys = ("documents", "top_n", "return_documents")
        return outbound.object_body(self.type, request, model=model, documents=documents, top_n=top_n, keys=keys)

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        return parse_openai(body, count=count, expected=expected)
