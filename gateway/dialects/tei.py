"""Hugging Face text-embeddings-inference (`/rerank` with `texts`): a bare array of `{index, score}`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import attrs

from gateway.dialects import base, outbound
from gateway.errors import EmptyInput, GatewayError
from gateway.model import Document, Ranking, RerankRequest, RerankResult, Usage


@attrs.frozen(kw_only=True)
class TeiBody:
    """A TEI rerank request. TEI has no model field and no top-k; `model` is a gateway extension."""

    query: str
    texts: list[str]
    truncate: bool | None = None
    truncation_direction: Literal["Right", "Left", "right", "left"] | None = None
    raw_scores: bool | None = None
    return_text: bool | None = None
    model: str | None = None


#: TEI's `error_type` for a status, as its router maps them (401 has an empty body there).
ERROR_TYPES = {400: "Validation", 413: "Validation", 422: "Validation", 424: "Backend", 429: "Overloaded"}


@attrs.frozen(kw_only=True)
class TeiClient:
    """The client side of TEI: every text scored, a bare sorted array, `text` when `return_text`."""

    name: str = "tei"

    def parse(self, body: Any) -> RerankRequest:
        wire: TeiBody = base.structure_client(body, TeiBody)
        if wire.truncation_direction is not None:
            outbound.log.debug("truncation_direction dropped", extra={"dialect": self.name})
        return RerankRequest(
            model=wire.model or "",
            query=base.check_query(wire.query),
            documents=base.documents_from(wire.texts, rank_fields=None, path="$.texts"),
            return_documents=bool(wire.return_text),
            truncate=wire.truncate,
            raw_scores=bool(wire.raw_scores),
        )

    def render(self, result: RerankResult, request: RerankRequest) -> Any:
        rows = []
        for r, doc in base.ResultView(result, request).rows():
            item: dict[str, Any] = {"index": r.index}
            if request.return_documents:
                item["text"] = doc.text
            item["score"] = r.score
            rows.append(item)
        return rows

    def render_error(self, error: GatewayError) -> Any:
        # TEI answers an empty `texts` with its own error type, which clients may match on.
        kind = "Empty" if isinstance(error, EmptyInput) else ERROR_TYPES.get(error.status) or _error_type(error.status)
        return {"error": error.message, "error_type": kind, **base.error_fields(error)}


def _error_type(status: int) -> str:
    if status in (401, 403):
        return "Unauthorized"
    if status == 503:
        return "Unhealthy"
    return "Backend" if status >= 500 else "Validation"


@attrs.frozen(kw_only=True)
class TeiProvider:
    """The provider side of TEI: `texts`, no top-k (cut by the gateway), 32 texts per call."""

    type: str = "tei"
    path: str = "/rerank"
    max_documents: int = 32

    def headers(self, api_key: str | None) -> dict[str, str]:
        return outbound.bearer(api_key)

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        outbound.text_only(self.type, documents)
        outbound.dropped(self.type, request, "max_tokens_per_doc", "instruction")
        # Truncate unless the client asked for errors: TEI up to v1.8 errors on long inputs by default.
        body: dict[str, Any] = {
            "query": request.query,
            "texts": outbound.texts(documents),
            "truncate": True if request.truncate is None else request.truncate,
            "return_text": False,
        }
        if request.raw_scores:
            body["raw_scores"] = True
        return body

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        # Usage is only in the x-compute-tokens header, which dialects do not see.
        return outbound.read(body, count=count, expected=expected, usage=Usage(), container=(), score="score")
