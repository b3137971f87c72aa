"""Bounded input: body size, document count, query and document length, answered 413 or 400 in JSON."""

from __future__ import annotations

from typing import Any

from tests.conftest import StartGateway, model

LIMITS = {"max_body_bytes": 2000, "max_documents": 5, "max_query_chars": 50, "max_document_chars": 100}


def config() -> dict[str, Any]:
    """The local ranker with small limits."""
    return {"providers": {"local": {"type": "local"}}, "models": {"m": model(("local", "bm25"))}, "limits": LIMITS}


async def test_each_limit_is_named_in_its_answer(start_gateway: StartGateway) -> None:
    """Over each limit the client gets 413 or 400 in JSON with the field that broke it."""
    client = await start_gateway(config())
    cases = [
        ({"query": "q", "documents": ["x" * 10] * 6}, 413, "$.documents", "limit of 5"),
        ({"query": "q" * 51, "documents": ["a"]}, 400, "$.query", "limit of 50"),
        ({"query": "q", "documents": ["a", "b" * 101]}, 400, "$.documents[1]", "limit of 100"),
    ]
    for body, code, field, limit in cases:
        resp = await client.post("/v1/rerank", json={"model": "m", **body})
        assert resp.status == code
        data = await resp.json()
        assert data["field"] == field
        assert limit in data["message"]


async def test_body_over_the_size_limit_is_a_413(start_gateway: StartGateway) -> None:
    """A body over max_body_bytes is refused with a JSON 413, never read whole."""
    client = await start_gateway(config())
    resp = await client.post("/v1/rerank", json={"model": "m", "query": "q", "documents": ["a" * 3000]})
    assert resp.status == 413
    assert (await resp.json())["type"] == "payload_too_large"


async def test_within_the_limits_is_answered(start_gateway: StartGateway) -> None:
    """At the limits exactly, the request is served."""
    client = await start_gateway(config())
    body = {"model": "m", "query": "q" * 50, "documents": ["d" * 100] * 5}
    assert (await client.post("/v1/rerank", json=body)).status == 200


async def test_defaults_fit_thousands_of_documents(start_gateway: StartGateway) -> None:
    """With default limits, 5,000 short documents are accepted."""
    cfg = config()
    del cfg["limits"]
    client = await start_gateway(cfg)
    body = {"model": "m", "query": "apple", "documents": [f"document {i}" for i in range(5000)], "top_n": 3}
    assert (await client.post("/v1/rerank", json=body)).status == 200


async def test_limits_name_the_fields_of_the_clients_dialect(start_gateway: StartGateway) -> None:
    """TEI and NIM clients see `texts`, `passages` and `query.text` in limit errors, in their envelopes."""
    client = await start_gateway(config())
    tei = await client.post("/rerank", json={"query": "q", "texts": ["a", "b" * 101]})
    assert tei.status == 400
    assert (await tei.json())["error"].startswith("$.texts[1]: longer than the limit of 100")
    nim = {"model": "m", "query": {"text": "q" * 51}, "passages": [{"text": "a"}]}
    resp = await client.post("/v1/ranking", json=nim)
    assert resp.status == 400
    assert (await resp.json())["field"] == "$.query.text"
    resp = await client.post("/v1/ranking", json={**nim, "query": {"text": "q"}, "passages": [{"text": "a"}] * 6})
    assert resp.status == 413
    assert (await resp.json())["field"] == "$.passages"


async def test_empty_texts_is_teis_empty_error(start_gateway: StartGateway) -> None:
    """An empty `texts` list gets TEI's own `Empty` error type, as TEI answers it."""
    client = await start_gateway(config())
    resp = await client.post("/rerank", json={"query": "q", "texts": []})
    assert resp.status == 400
    assert (await resp.json())["error_type"] == "Empty"
