"""Mixedbread (`/v1/reranking`): `input` instead of documents, `top_k`, answers in `data[]` with `score`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from gateway.dialects import outbound
from gateway.model import Document, Ranking, RerankRequest


@attrs.frozen(kw_only=True)
class MixedbreadProvider:
    """The provider side of Mixedbread: object inputs with `rank_fields`, 1,000 inputs per call."""

    type: str = "mixedbread"
    path: str = "/v1/reranking"
    max_documents: int = 1000

    def headers(self, api_key: str | None) -> dict[str, str]:
        return outbound.bearer(api_key)

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        # Left out, top_k is -1: every input.
        keys = ("input", "top_k", "return_input")
        return outbound.object_body(self.type, request, model=model, documents=documents, top_n=top_n, keys=keys)

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        usage = outbound.token_usage(body, ("usage", "total_tokens"), ("usage", "prompt_tokens"))
        return outbound.read(body, count=count, expected=expected, usage=usage, container=("data",), score="score")
