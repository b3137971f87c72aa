"""Jina AI (`/v1/rerank`): the provider side, and the client side with Jina's own defaults."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from gateway.dialects import base
from gateway.dialects.cohere import V1Client, bearer, parse_results
from gateway.model import Document, Ranking, RerankRequest, Usage

#: Jina's own client dialect: the same request as `/v1/rerank`, documents returned by default.
JINA_CLIENT = V1Client(name="jina", return_documents_default=True)


@attrs.frozen(kw_only=True)
class JinaProvider:
    """The provider side of Jina: Bearer auth, `top_n`, `results[]`, `usage.total_tokens`."""

    type: str = "jina"
    path: str = "/v1/rerank"
    max_documents: int = 1000

    def headers(self, api_key: str | None) -> dict[str, str]:
        return bearer(api_key)

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        # Jina returns documents unless told not to; the gateway echoes from the request instead.
        body: dict[str, Any] = {
            "model": model,
            "query": request.query,
            "documents": [d.text for d in documents],
            "return_documents": False,
        }
        if top_n is not None:
            body["top_n"] = top_n
        return body

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        usage = Usage(input_tokens=base.number(body, "usage", "total_tokens"))
        return parse_results(body, count=count, expected=expected, usage=usage)
