"""`POST /v1/rerank`: Cohere v1 and Jina requests in, an answer both parse out, 400s naming fields."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import StartGateway, model

LOCAL = {"providers": {"local": {"type": "local"}}, "models": {"m": model(("local", "bm25"))}}
DOCS = ["Paris is the capital of France.", "Berlin is in Germany.", "The capital of France has museums."]


async def rerank(start_gateway: StartGateway, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    client = await start_gateway(LOCAL)
    resp = await client.post("/v1/rerank", json=body)
    return resp.status, await resp.json()


async def test_cohere_request_gets_cohere_and_jina_fields(start_gateway: StartGateway) -> None:
    """A Cohere v1 request gets id, model, sorted results, Cohere `meta` and Jina-style `usage`."""
    status, data = await rerank(start_gateway, {"model": "m", "query": "capital of France", "documents": DOCS})
    assert status == 200
    assert data["model"] == "m"
    assert sorted(r["index"] for r in data["results"]) == [0, 1, 2]
    scores = [r["relevance_score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)
    assert data["results"][-1]["index"] == 1
    assert "document" not in data["results"][0]
    assert set(data["meta"]["billed_units"]) >= {"search_units", "input_tokens"}
    assert data["usage"]["total_tokens"] == data["meta"]["tokens"]["input_tokens"] > 0


async def test_top_n_and_return_documents(start_gateway: StartGateway) -> None:
    """top_n cuts after sorting; return_documents echoes `{"text": ...}` for the right index."""
    body = {"model": "m", "query": "capital of France", "documents": DOCS, "top_n": 2, "return_documents": True}
    status, data = await rerank(start_gateway, body)
    assert status == 200
    assert len(data["results"]) == 2
    for r in data["results"]:
        assert r["document"] == {"text": DOCS[r["index"]]}


async def test_jina_style_object_documents_are_echoed_as_sent(start_gateway: StartGateway) -> None:
    """Jina's `{"text": ...}` documents are ranked by text and echoed as the client sent them."""
    docs = [{"text": d, "id": f"d{i}"} for i, d in enumerate(DOCS)]
    body = {"model": "m", "query": "Germany", "documents": docs, "return_documents": True, "top_n": 1}
    status, data = await rerank(start_gateway, body)
    assert status == 200
    assert data["results"] == [
        {"index": 1, "relevance_score": data["results"][0]["relevance_score"], "document": docs[1]}
    ]


async def test_rank_fields_choose_what_is_ranked(start_gateway: StartGateway) -> None:
    """With rank_fields, object documents are ranked on those fields, not on `text`."""
    docs = [{"title": "Germany", "text": "nothing"}, {"title": "France", "text": "Germany Germany"}]
    body = {"model": "m", "query": "Germany", "documents": docs, "rank_fields": ["title"]}
    status, data = await rerank(start_gateway, body)
    assert status == 200
    assert data["results"][0]["index"] == 0


async def test_null_optional_fields_mean_defaults(start_gateway: StartGateway) -> None:
    """Explicit nulls (as SDKs send them) for optional fields mean the defaults."""
    body = {"model": "m", "query": "France", "documents": DOCS, "top_n": None, "return_documents": None}
    status, data = await rerank(start_gateway, body)
    assert status == 200
    assert len(data["results"]) == 3


async def test_duplicate_documents_keep_their_own_indices(start_gateway: StartGateway) -> None:
    """The same text twice gets two results, one per index."""
    status, data = await rerank(start_gateway, {"model": "m", "query": "a", "documents": ["a", "a", "b"]})
    assert status == 200
    assert sorted(r["index"] for r in data["results"]) == [0, 1, 2]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": "q", "documents": ["a"]}, "$.model"),
        ({"model": "m", "documents": ["a"]}, "$.query"),
        ({"model": "m", "query": "   ", "documents": ["a"]}, "$.query"),
        ({"model": "m", "query": "q", "documents": []}, "$.documents"),
        ({"model": "m", "query": "q", "documents": "a"}, "$.documents"),
        ({"model": "m", "query": "q", "documents": ["a", 5]}, "$.documents[1]"),
        ({"model": "m", "query": "q", "documents": [{"title": "x"}]}, "$.documents[0].text"),
        ({"model": "m", "query": "q", "documents": ["a"], "top_n": 0}, "$.top_n"),
        ({"model": "m", "query": "q", "documents": ["a"], "top_n": "2"}, "$.top_n"),
        ({"model": "m", "query": "q", "documents": ["a"], "return_documents": "yes"}, "$.return_documents"),
        ({"model": "m", "query": 5, "documents": ["a"]}, "$.query"),
        ({"model": "m", "query": "q", "documents": ["a"], "colour": 1}, "$"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    start_gateway: StartGateway, body: dict[str, Any], field: str
) -> None:
    """Each client mistake is a 400 whose body names the offending field, in Cohere and Jina keys."""
    status, data = await rerank(start_gateway, body)
    assert status == 400
    assert data["field"] == field
    assert data["message"].startswith(field)
    assert data["detail"] == data["message"]


async def test_body_that_is_not_json(start_gateway: StartGateway) -> None:
    """A body that is not JSON, or not an object, is a 400, never a 500."""
    client = await start_gateway(LOCAL)
    for raw in (b"{nope", b"", b"[1, 2]", b'"text"', b"NaN"):
        resp = await client.post("/v1/rerank", data=raw, headers={"Content-Type": "application/json"})
        assert resp.status == 400, raw
        assert (await resp.json())["type"] == "invalid_request"


async def test_unknown_model_is_404_and_models_are_listed(start_gateway: StartGateway) -> None:
    """An unknown model is a 404 pointing at /v1/models, which lists the configured models."""
    client = await start_gateway(LOCAL)
    resp = await client.post("/v1/rerank", json={"model": "nope", "query": "q", "documents": ["a"]})
    assert resp.status == 404
    assert "/v1/models" in (await resp.json())["message"]
    listing = await (await client.get("/v1/models")).json()
    assert listing["object"] == "list"
    assert [m["id"] for m in listing["data"]] == ["m"]


async def test_request_id_is_echoed_or_generated(start_gateway: StartGateway) -> None:
    """x-request-id is echoed when sent and generated otherwise, on success and error alike."""
    client = await start_gateway(LOCAL)
    body = {"model": "m", "query": "q", "documents": ["a"]}
    resp = await client.post("/v1/rerank", json=body, headers={"x-request-id": "abc-123"})
    assert resp.headers["x-request-id"] == "abc-123"
    resp = await client.post("/v1/rerank", json={})
    assert len(resp.headers["x-request-id"]) == 32


async def test_unknown_route_and_wrong_method_are_json(start_gateway: StartGateway) -> None:
    """Unknown paths and wrong methods get JSON errors, not HTML."""
    client = await start_gateway(LOCAL)
    resp = await client.get("/v1/nothing")
    assert resp.status == 404
    assert resp.content_type == "application/json"
    resp = await client.get("/v1/rerank")
    assert resp.status == 405
    assert resp.content_type == "application/json"


async def test_limits_on_documents_and_body(start_gateway: StartGateway) -> None:
    """Over-limit document counts are 413 and over-long queries 400, each naming the limit."""
    config = {**LOCAL, "limits": {"max_documents": 3, "max_query_chars": 10}}
    client = await start_gateway(config)
    resp = await client.post("/v1/rerank", json={"model": "m", "query": "q", "documents": ["a"] * 4})
    assert resp.status == 413
    assert "limit of 3" in (await resp.json())["message"]
    resp = await client.post("/v1/rerank", json={"model": "m", "query": "q" * 11, "documents": ["a"]})
    assert resp.status == 400
    assert (await resp.json())["field"] == "$.query"
