"""NVIDIA NIM (`/v1/ranking`): `query.text`, `passages[]`, answers in `rankings[]` with a raw `logit`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import attrs

from gateway.dialects import base, outbound
from gateway.errors import GatewayError
from gateway.model import Document, Ranking, RerankRequest, RerankResult


@attrs.frozen
class Text:
    """NIM's `{"text": ...}` wrapper, for the query and each passage."""

    text: str


@attrs.frozen(kw_only=True)
class RankingBody:
    """A NIM ranking request; `top_k` is not documented by NVIDIA but LiteLLM sends it."""

    model: str
    query: Text
    passages: list[Text]
    truncate: Literal["NONE", "END"] | None = None
    top_k: int | None = None


@attrs.frozen(kw_only=True)
class NimClient:
    """The client side of NIM: `rankings[]` of `{index, logit}`, never documents.

    `logit` carries the provider's score as it is: a sigmoid-scaled score from most providers,
    a raw logit from NIM or from providers configured with raw scores.
    """

    name: str = "nvidia"

    def parse(self, body: Any) -> RerankRequest:
        wire: RankingBody = base.structure_client(body, RankingBody)
        texts = [p.text for p in wire.passages]
        return RerankRequest(
            model=wire.model,
            query=base.check_query(wire.query.text, path="$.query.text"),
            documents=base.documents_from(texts, rank_fields=None, path="$.passages"),
            top_n=base.check_top_n(wire.top_k, path="$.top_k"),
            truncate=None if wire.truncate is None else wire.truncate == "END",
        )

    def render(self, result: RerankResult, request: RerankRequest) -> Any:
        tokens = result.usage.input_tokens or 0
        return {
            "rankings": [{"index": r.index, "logit": r.score} for r in result.results],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    def render_error(self, error: GatewayError) -> Any:
        # NIM's own envelope is not documented; FastAPI's `detail` is what its clients can read.
        return {"detail": error.message, "status": error.status, **base.error_fields(error)}


@attrs.frozen(kw_only=True)
class NimProvider:
    """The provider side of NIM: no top-k (the gateway cuts), `truncate: END` unless errors were asked for."""

    type: str = "nvidia"
    path: str = "/v1/ranking"
    #: Not documented by NVIDIA.
    max_documents: int = 1000

    def headers(self, api_key: str | None) -> dict[str, str]:
        return outbound.bearer(api_key)

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        outbound.text_only(self.type, documents)
        outbound.dropped(self.type, request, "max_tokens_per_doc", "instruction")
        # NIM's default NONE fails over-long inputs; truncate unless the client asked for errors.
        return {
            "model": model,
            "query": {"text": request.query},
            "passages": [{"text": t} for t in outbound.texts(documents)],
            "truncate": "NONE" if request.truncate is False else "END",
        }

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        usage = outbound.token_usage(body, ("usage", "total_tokens"), ("usage", "prompt_tokens"))
        return outbound.read(body, count=count, expected=expected, usage=usage, container=("rankings",), score="logit")
