"""Object documents with rank_fields: passed through where the provider takes them, serialized elsewhere."""

from __future__ import annotations

import pytest

from gateway.dialects import PROVIDER_DIALECTS
from tests.conftest import StartFake, StartGateway, model
from tests.fakes.upstream import READERS, det_score

QUERY = "alpine city"
DOCS = [{"title": t, "id": f"d{i}"} for i, t in enumerate(["Zurich", "Geneva", "Bern", "Lugano", "Basel"])]
TITLES = [str(d["title"]) for d in DOCS]
#: Provider types whose API takes object documents and `rank_fields`, and the key they go under.
OBJECT_KEYS = {"cohere": "documents", "together": "documents", "mixedbread": "input", "pinecone": "documents"}


@pytest.mark.parametrize("provider", sorted(PROVIDER_DIALECTS))
async def test_rank_fields_reach_each_provider_in_its_form(
    provider: str, start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """Every provider ranks the titles; objects travel as sent only to those that take them; the echo is the object."""
    fake, url = await start_fake(provider)
    gateway = await start_gateway(
        {"providers": {"p": {"type": provider, "base_url": url}}, "models": {"m": model(("p", "x"))}}
    )
    body = {"model": "m", "query": QUERY, "documents": DOCS, "rank_fields": ["title"], "top_n": 3}
    resp = await gateway.post("/v1/rerank", json={**body, "return_documents": True})
    assert resp.status == 200, await resp.text()
    sent = fake.received[0]
    assert READERS[provider](sent)[1] == TITLES
    if provider in OBJECT_KEYS:
        assert sent[OBJECT_KEYS[provider]] == DOCS
        assert sent["rank_fields"] == ["title"]
    else:
        assert "rank_fields" not in sent
    results = (await resp.json())["results"]
    best = sorted(range(len(DOCS)), key=lambda i: (-det_score(QUERY, TITLES[i]), i))[:3]
    assert [r["index"] for r in results] == best
    assert [r["document"] for r in results] == [DOCS[i] for i in best]


async def test_mixed_strings_and_objects_are_serialized_for_every_provider(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A list mixing strings and objects is sent as text even to Together, whose schema takes one or the other."""
    fake, url = await start_fake("together")
    gateway = await start_gateway(
        {"providers": {"t": {"type": "together", "base_url": url}}, "models": {"m": model(("t", "x"))}}
    )
    docs = ["Zurich", {"text": "Bern", "id": "b"}]
    resp = await gateway.post("/v1/rerank", json={"model": "m", "query": QUERY, "documents": docs})
    assert resp.status == 200
    assert fake.received[0]["documents"] == ["Zurich", "Bern"]
