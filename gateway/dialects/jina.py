"""Jina AI (`/v1/rerank`): the provider side, and the client side with Jina's own defaults."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from gateway.dialects import base, outbound
from gateway.dialects.cohere import V1Client, parse_results
from gateway.model import Document, Ranking, RerankRequest, Usage

#: Jina's own client dialect: the same request as `/v1/rerank`, documents returned by default.
JINA_CLIENT = V1Client(name="jina", return_documents_default=True)


@attrs.frozen(kw_only=True)
class JinaProvider:
    """The provider side of Jina: Bearer auth, `top_n`, `results[]`, `usage.total_tokens`.

    Image documents go through as `{"image": ...}` (jina-reranker-m0 ranks them; text-only Jina
    models answer 4xx themselves).
    """

    type: str = "jina"
    path: str = "/v1/rerank"
    max_documents: int = 1000

    def headers(self, api_key: str | None) -> dict[str, str]:
        return outbound.bearer(api_key)

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        outbound.dropped(self.type, request, "truncate", "max_tokens_per_doc", "instruction", "raw_scores")
        # Jina returns documents unless told not to; the gateway echoes from the request instead.
        body: dict[str, Any] = {
            "model": model,
            "query": request.query,
            "documents": [_document(d) for d in documents],
            "return_documents": False,
        }
        if top_n is not None:
            body["top_n"] = top_n
        return body

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        usage = Usage(input_tokens=base.number(body, "usage", "total_tokens"))
        return parse_results(body, count=count, expected=expected, usage=usage)


def _document(doc: Document) -> str | dict[str, str]:
    if doc.image is None:
        return doc.text
    return {"image": doc.image, "text": doc.text} if doc.text else {"image": doc.image}
