"""The official cohere SDK (Client and ClientV2), pointed at the gateway root, parses every answer."""

from __future__ import annotations

from typing import Any

import cohere
import httpx

from tests.conftest import StartFake, StartGateway, model
from tests.fakes.upstream import det_score

QUERY = "capital of Switzerland"
DOCS = ["Zurich is the largest Swiss city.", "Geneva hosts the UN office.", "Bern is the federal city.", "Basel"]


def ranked(texts: list[str]) -> list[int]:
    """Indices in the order the fakes' deterministic scores put them."""
    return sorted(range(len(texts)), key=lambda i: (-det_score(QUERY, texts[i]), i))


async def gateway_root(provider: str, start_fake: StartFake, start_gateway: StartGateway) -> tuple[Any, str]:
    """A gateway over one fake provider of this type, and the root URL an SDK is given."""
    fake, url = await start_fake(provider)
    spec = {"type": provider, "base_url": url, "api_key": "sk-upstream"}
    gateway = await start_gateway({"providers": {"p": spec}, "models": {"rerank-v3.5": model(("p", "upstream"))}})
    return fake, str(gateway.make_url("")).rstrip("/")


async def test_client_v1_top_n_and_documents(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """`cohere.AsyncClient.rerank` with top_n and return_documents gets indices, scores and documents."""
    _, root = await gateway_root("voyage", start_fake, start_gateway)
    async with httpx.AsyncClient() as http:
        co = cohere.AsyncClient(api_key="gw-key", base_url=root, httpx_client=http)
        resp = await co.rerank(model="rerank-v3.5", query=QUERY, documents=DOCS, top_n=2, return_documents=True)
    assert [r.index for r in resp.results] == ranked(DOCS)[:2]
    assert [r.relevance_score for r in resp.results] == [det_score(QUERY, DOCS[i]) for i in ranked(DOCS)[:2]]
    assert [r.document.text for r in resp.results if r.document] == [DOCS[i] for i in ranked(DOCS)[:2]]
    assert resp.meta is not None
    assert resp.meta.api_version is not None
    assert resp.meta.api_version.version == "1"


async def test_client_v1_object_documents_with_rank_fields(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Object documents with rank_fields reach Cohere as objects and come back as the objects sent."""
    fake, root = await gateway_root("cohere", start_fake, start_gateway)
    docs = [{"title": t, "id": str(i)} for i, t in enumerate(DOCS)]
    async with httpx.AsyncClient() as http:
        co = cohere.AsyncClient(api_key="gw-key", base_url=root, httpx_client=http)
        resp = await co.rerank(
            model="rerank-v3.5", query=QUERY, documents=docs, rank_fields=["title"], return_documents=True
        )
    assert fake.received[0]["documents"] == docs
    assert fake.received[0]["rank_fields"] == ["title"]
    assert [r.index for r in resp.results] == ranked(DOCS)
    echoed = [r.document.dict() if r.document else None for r in resp.results]
    assert [e["id"] if e else None for e in echoed] == [str(i) for i in ranked(DOCS)]


async def test_client_v2_langchain_nulls(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """`AsyncClientV2.rerank` with explicit `None`s (as LangChain passes them) gets every document back."""
    fake, root = await gateway_root("tei", start_fake, start_gateway)
    async with httpx.AsyncClient() as http:
        co = cohere.AsyncClientV2(api_key="gw-key", base_url=root, httpx_client=http)
        resp = await co.rerank(model="rerank-v3.5", query=QUERY, documents=DOCS, top_n=None, max_tokens_per_doc=None)
    assert fake.calls == 1
    assert [r.index for r in resp.results] == ranked(DOCS)


async def test_client_v2_top_n(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """`AsyncClientV2.rerank` with top_n and max_tokens_per_doc gets the best top_n, from a v2 provider."""
    fake, root = await gateway_root("cohere-v2", start_fake, start_gateway)
    async with httpx.AsyncClient() as http:
        co = cohere.AsyncClientV2(api_key="gw-key", base_url=root, httpx_client=http)
        resp = await co.rerank(model="rerank-v3.5", query=QUERY, documents=DOCS, top_n=3, max_tokens_per_doc=256)
    assert fake.received[0]["max_tokens_per_doc"] == 256
    assert [r.index for r in resp.results] == ranked(DOCS)[:3]
    assert resp.meta is not None
    assert resp.meta.billed_units is not None
    assert resp.meta.billed_units.search_units == 1
