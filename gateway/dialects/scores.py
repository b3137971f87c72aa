"""Score scales: a provider dialect wrapped so its raw logits come out in [0, 1]."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs

from gateway.dialects.base import ProviderDialect
from gateway.model import Document, Ranked, Ranking, RerankRequest


def sigmoid(x: float) -> float:
    """The logistic function, without overflow for large negative logits."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@attrs.frozen
class SigmoidScores:
    """`inner`, with each score mapped through a sigmoid (config `scores: sigmoid`).

    Meant for providers that answer raw logits (NIM always; TEI / Infinity / vLLM when asked for
    raw scores). The order is unchanged: the sigmoid is monotonic.
    """

    inner: ProviderDialect

    @property
    def type(self) -> str:
        return self.inner.type

    @property
    def path(self) -> str:
        return self.inner.path

    @property
    def max_documents(self) -> int:
        return self.inner.max_documents

    def headers(self, api_key: str | None) -> dict[str, str]:
        return self.inner.headers(api_key)

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        return self.inner.build(request, model=model, documents=documents, top_n=top_n)

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        ranking = self.inner.parse(body, count=count, expected=expected)
        return attrs.evolve(ranking, results=tuple(Ranked(r.index, sigmoid(r.score)) for r in ranking.results))


def scaled(dialect: ProviderDialect, scores: str) -> ProviderDialect:
    """The dialect to use for a provider's `scores` setting."""
    return SigmoidScores(dialect) if scores == "sigmoid" else dialect
