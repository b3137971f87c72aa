"""The official voyageai SDK, with `base_url=<gateway>/voyage/v1` (or `/v1`), parses every answer."""

from __future__ import annotations

import pytest
from voyageai.client_async import AsyncClient
from voyageai.error import VoyageError

from tests.conftest import StartFake, StartGateway, model
from tests.fakes.upstream import det_score

QUERY = "capital of Switzerland"
DOCS = ["Zurich is the largest Swiss city.", "Geneva hosts the UN office.", "Bern is the federal city.", "Basel"]


def ranked() -> list[int]:
    """Indices in the order the fakes' deterministic scores put them."""
    return sorted(range(len(DOCS)), key=lambda i: (-det_score(QUERY, DOCS[i]), i))


@pytest.mark.parametrize("prefix", ["/voyage/v1", "/v1"])
async def test_async_client_top_k(prefix: str, start_fake: StartFake, start_gateway: StartGateway) -> None:
    """`AsyncClient.rerank` with top_k gets the best top_k, its own documents, and total_tokens."""
    fake, url = await start_fake("cohere")
    # Without the score cache (which asks for every score), top_k itself is forwarded as top_n.
    spec = {"type": "cohere", "base_url": url, "cache": False}
    gateway = await start_gateway({"providers": {"c": spec}, "models": {"rerank-2.5": model(("c", "rerank-v3.5"))}})
    base = str(gateway.make_url(prefix))
    client = AsyncClient(api_key="gw-key", base_url=base)
    result = await client.rerank(QUERY, DOCS, "rerank-2.5", top_k=2)
    assert [r.index for r in result.results] == ranked()[:2]
    assert [r.document for r in result.results] == [DOCS[i] for i in ranked()[:2]]
    assert [r.relevance_score for r in result.results] == [det_score(QUERY, DOCS[i]) for i in ranked()[:2]]
    assert result.total_tokens == 0
    assert fake.received[0]["top_n"] == 2


async def test_async_client_all_documents_with_tokens(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """`top_k` left as null returns every document, and the provider's token count reaches total_tokens."""
    fake, url = await start_fake("jina")
    spec = {"type": "jina", "base_url": url}
    gateway = await start_gateway({"providers": {"j": spec}, "models": {"rerank-2.5": model(("j", "jina-v2"))}})
    client = AsyncClient(api_key="gw-key", base_url=str(gateway.make_url("/voyage/v1")))
    result = await client.rerank(QUERY, DOCS, "rerank-2.5", truncation=False)
    assert [r.index for r in result.results] == ranked()
    assert result.total_tokens == 10 * len(DOCS)
    assert "top_n" not in fake.received[0]


async def test_async_client_sees_an_upstream_failure_as_an_error(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A model that does not exist is a 404 whose `detail` the SDK turns into an error with the message."""
    _, url = await start_fake("cohere")
    gateway = await start_gateway(
        {"providers": {"c": {"type": "cohere", "base_url": url}}, "models": {"m": model(("c", "x"))}}
    )
    client = AsyncClient(api_key="gw-key", base_url=str(gateway.make_url("/voyage/v1")))
    with pytest.raises(VoyageError, match="does not exist"):
        await client.rerank(QUERY, DOCS, "no-such-model")
