"""Every client dialect crossed with every provider type, over loopback, ranks the same way."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.dialects import PROVIDER_TYPES
from gateway.providers import lexical
from tests.conftest import StartFake, StartGateway, model
from tests.dialects.shapes import SHAPES
from tests.fakes.upstream import det_score

QUERY = "topic 3"
#: 40 documents: over TEI's 32 per call, so the TEI provider also answers in two batches.
DOCS = [f"document number {i} about topic {i % 7}" for i in range(40)]
TOP = 5
#: Tokens the fakes report for 40 documents (10 each; SiliconFlow's fake says 7); None: not reported.
TOKENS = {"siliconflow": 280, "cohere": 0, "cohere-v2": 0, "tei": 0, "pinecone": 0}


def expected(provider: str) -> list[tuple[int, float]]:
    """The ranking every client should see: the provider's scores, sorted, ties by index."""
    scores = lexical.score(QUERY, DOCS) if provider == "local" else [det_score(QUERY, d) for d in DOCS]
    return sorted(enumerate(scores), key=lambda r: (-r[1], r[0]))


async def gateway_for(provider: str, start_fake: StartFake, start_gateway: StartGateway) -> Any:
    """A gateway whose one model is served by one provider of this type, with a key it must send right."""
    if provider == "local":
        spec: dict[str, Any] = {"type": "local"}
    else:
        _, url = await start_fake(provider, api_key="sk-upstream")
        # NIM answers raw logits: squash them so every pair compares the same [0, 1] scores.
        scores = "sigmoid" if provider == "nvidia" else "as-is"
        spec = {"type": provider, "base_url": url, "api_key": "sk-upstream", "scores": scores}
    return await start_gateway({"providers": {"p": spec}, "models": {"m": model(("p", "upstream-model"))}})


@pytest.mark.parametrize("provider", sorted(PROVIDER_TYPES))
@pytest.mark.parametrize("client", sorted(SHAPES))
async def test_same_ranking_through_every_pair(
    client: str, provider: str, start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """The client sees the provider's ranking, cut to its top-k, indices and documents from its own list."""
    shape = SHAPES[client]
    gateway = await gateway_for(provider, start_fake, start_gateway)
    resp = await gateway.post(shape.route, json=shape.body(QUERY, DOCS, TOP, True))
    assert resp.status == 200, await resp.text()
    answer = await resp.json()
    rows = shape.read(answer)
    if not shape.top_k:
        assert len(rows) == len(DOCS)
        rows = rows[:TOP]
    want = expected(provider)[:TOP]
    assert [r[0] for r in rows] == [i for i, _ in want]
    assert [r[1] for r in rows] == pytest.approx([s for _, s in want], rel=1e-9)
    if shape.echo:
        assert [r[2] for r in rows] == [DOCS[i] for i, _ in want]
    tokens = shape.tokens(answer)
    if tokens is not None and provider != "local":
        assert tokens == TOKENS.get(provider, 10 * len(DOCS))
