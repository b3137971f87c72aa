"""The /v1/rerank answer: documents echoed only when asked, as text objects or as the objects sent."""

from __future__ import annotations

from tests.conftest import StartFake, StartGateway, model


async def _answer(start_fake: StartFake, start_gateway: StartGateway, body: dict[str, object]) -> dict[str, object]:
    _fake, url = await start_fake("cohere")
    config = {"providers": {"up": {"type": "cohere", "base_url": url}}, "models": {"m": model(("up", "x"))}}
    client = await start_gateway(config)
    resp = await client.post("/v1/rerank", json=body)
    assert resp.status == 200
    data: dict[str, object] = await resp.json()
    return data


async def test_no_documents_unless_asked(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Without return_documents each result has exactly index and relevance_score."""
    data = await _answer(start_fake, start_gateway, {"model": "m", "query": "q", "documents": ["a", "b", "c"]})
    results = data["results"]
    assert isinstance(results, list)
    assert sorted(r["index"] for r in results) == [0, 1, 2]
    assert all(set(r) == {"index", "relevance_score"} for r in results)


async def test_documents_echoed_by_index_when_asked(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """With return_documents each result carries its own document: strings as {text}, objects as sent."""
    docs = ["alpha", {"text": "beta", "id": 7}, "gamma"]
    body = {"model": "m", "query": "q", "documents": docs, "return_documents": True}
    data = await _answer(start_fake, start_gateway, body)
    results = data["results"]
    assert isinstance(results, list)
    expected = [{"text": "alpha"}, {"text": "beta", "id": 7}, {"text": "gamma"}]
    for r in results:
        assert r["document"] == expected[r["index"]]
