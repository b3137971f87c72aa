"""The built-in local ranker: a provider that answers in process, with no weights or network."""

from __future__ import annotations

import asyncio

import attrs

from gateway.errors import ProviderError, Unservable
from gateway.model import Ranked, Ranking, RerankRequest, Usage
from gateway.providers import lexical

#: Above this many characters the scoring moves to a thread, so the event loop keeps serving.
INLINE_CHARS = 200_000


@attrs.define
class LocalProvider:
    """Lexical ranking (BM25 plus trigram overlap) of the request's documents."""

    name: str

    async def rerank(self, request: RerankRequest, *, model: str, timeout: float) -> Ranking:
        if request.has_images:
            raise Unservable("the local ranker ranks text only and the request has image documents")
        texts = [d.text for d in request.documents]
        if sum(map(len, texts)) + len(request.query) > INLINE_CHARS:
            try:
                scores = await asyncio.wait_for(asyncio.to_thread(lexical.score, request.query, texts), timeout)
            except TimeoutError:
                raise ProviderError("timeout", retryable=False) from None
        else:
            scores = lexical.score(request.query, texts)
        results = tuple(Ranked(i, s) for i, s in enumerate(scores))
        tokens = len(lexical.tokens(request.query)) * len(texts) + sum(len(t.split()) for t in texts)
        return Ranking(results=results, usage=Usage(input_tokens=tokens))

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None
