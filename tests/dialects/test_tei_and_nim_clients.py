"""TEI-style and NIM-style clients get exactly their own answer shapes, keys and all."""

from __future__ import annotations

from tests.conftest import StartGateway, model

DOCS = ["apple pie", "banana bread", "apple tart", "cherry"]
CONFIG = {"providers": {"l": {"type": "local"}}, "models": {"nv-rerank": model(("l", "bm25"))}}


async def test_tei_client_gets_a_bare_sorted_array(start_gateway: StartGateway) -> None:
    """`texts` on `/rerank` is answered with a bare array of `{index, score}`, every text, best first."""
    gateway = await start_gateway(CONFIG)
    resp = await gateway.post("/rerank", json={"query": "apple", "texts": DOCS})
    assert resp.status == 200
    answer = await resp.json()
    assert isinstance(answer, list)
    assert [set(item) for item in answer] == [{"index", "score"}] * len(DOCS)
    assert sorted(item["index"] for item in answer) == [0, 1, 2, 3]
    assert [item["score"] for item in answer] == sorted((item["score"] for item in answer), reverse=True)


async def test_tei_client_return_text(start_gateway: StartGateway) -> None:
    """`return_text: true` adds each item's text, taken from the client's own list."""
    gateway = await start_gateway(CONFIG)
    resp = await gateway.post("/rerank", json={"query": "apple", "texts": DOCS, "return_text": True})
    answer = await resp.json()
    assert [item["text"] for item in answer] == [DOCS[item["index"]] for item in answer]


async def test_nim_client_gets_rankings_with_logits(start_gateway: StartGateway) -> None:
    """`/v1/ranking` answers `{rankings: [{index, logit}], usage}`, never documents."""
    gateway = await start_gateway(CONFIG)
    body = {"model": "nv-rerank", "query": {"text": "apple"}, "passages": [{"text": d} for d in DOCS]}
    resp = await gateway.post("/v1/ranking", json=body)
    assert resp.status == 200
    answer = await resp.json()
    assert set(answer) == {"rankings", "usage"}
    assert [set(r) for r in answer["rankings"]] == [{"index", "logit"}] * len(DOCS)
    assert answer["rankings"][0]["index"] in (0, 2)
    assert set(answer["usage"]) == {"prompt_tokens", "total_tokens"}


async def test_nim_client_bare_string_query_is_a_400(start_gateway: StartGateway) -> None:
    """NIM's query is an object; a bare string is refused naming `$.query`, in a `detail` envelope."""
    gateway = await start_gateway(CONFIG)
    resp = await gateway.post("/v1/ranking", json={"model": "nv-rerank", "query": "apple", "passages": [{"text": "a"}]})
    assert resp.status == 400
    assert (await resp.json())["detail"].startswith("$.query")
