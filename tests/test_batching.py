"""Large document lists: split per the provider's limit, sent concurrently, merged, re-sorted, cut."""

from __future__ import annotations

from typing import Any

from tests.conftest import StartFake, StartGateway, model
from tests.fakes.upstream import det_score, ok, status
from tests.faults.conftest import check_integrity


def expected(query: str, docs: list[str], top_n: int) -> list[tuple[int, float]]:
    """The ranking one unbatched call would give: (index, score) by score, ties by index, cut."""
    ranked = sorted(((i, det_score(query, d)) for i, d in enumerate(docs)), key=lambda r: (-r[1], r[0]))
    return ranked[:top_n]


def two(primary_url: str, backup_url: str, *, max_documents: int | None = 3, dialect: str = "cohere") -> dict[str, Any]:
    """Model `m`: a batching primary (no retries), then a backup without a small limit."""
    primary: dict[str, Any] = {"type": dialect, "base_url": primary_url, "max_retries": 0}
    if max_documents is not None:
        primary["max_documents"] = max_documents
    return {
        "providers": {"primary": primary, "backup": {"type": "cohere", "base_url": backup_url}},
        "models": {"m": model(("primary", "x"), ("backup", "y"))},
    }


async def test_batches_are_reindexed_merged_sorted_and_cut(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Ten documents at three per call: four calls without top_n, one answer equal to an unbatched ranking."""
    primary, primary_url = await start_fake("cohere")
    _, backup_url = await start_fake("cohere")
    client = await start_gateway(two(primary_url, backup_url))
    docs = [f"document number {i}" for i in range(10)]
    resp = await client.post("/v1/rerank", json={"model": "m", "query": "q", "documents": docs, "top_n": 4})
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "primary"
    data = await resp.json()
    check_integrity(data, n=10, top_n=4)
    assert [(r["index"], r["relevance_score"]) for r in data["results"]] == expected("q", docs, 4)
    sent = sorted((b["documents"] for b in primary.received), key=lambda d: d[0])
    assert sent == [docs[0:3], docs[3:6], docs[6:9], docs[9:10]]
    assert all("top_n" not in b for b in primary.received)


async def test_one_failed_batch_fails_the_whole_call_over(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """If any batch fails, no partial ranking is returned: the backup ranks every document."""
    primary, primary_url = await start_fake("cohere")
    primary.then(ok(), status(500))
    backup, backup_url = await start_fake("cohere")
    client = await start_gateway(two(primary_url, backup_url))
    docs = [f"document number {i}" for i in range(10)]
    resp = await client.post("/v1/rerank", json={"model": "m", "query": "q", "documents": docs, "top_n": 10})
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "backup"
    data = await resp.json()
    check_integrity(data, n=10, top_n=10)
    assert [(r["index"], r["relevance_score"]) for r in data["results"]] == expected("q", docs, 10)
    assert backup.received[0]["documents"] == docs


async def test_the_type_default_limit_applies(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Cohere's default of 1,000 documents per call splits 1,001 documents into two calls."""
    primary, primary_url = await start_fake("cohere")
    _, backup_url = await start_fake("cohere")
    client = await start_gateway(two(primary_url, backup_url, max_documents=None))
    docs = [f"d{i}" for i in range(1001)]
    resp = await client.post("/v1/rerank", json={"model": "m", "query": "q", "documents": docs, "top_n": 3})
    assert resp.status == 200
    assert sorted(len(b["documents"]) for b in primary.received) == [1, 1000]


async def test_usage_is_summed_over_batches(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Jina's per-call token counts (10 per document here) add up across the batches."""
    _, primary_url = await start_fake("jina")
    _, backup_url = await start_fake("cohere")
    client = await start_gateway(two(primary_url, backup_url, dialect="jina"))
    docs = [f"document number {i}" for i in range(10)]
    resp = await client.post("/v1/rerank", json={"model": "m", "query": "q", "documents": docs})
    assert resp.status == 200
    assert (await resp.json())["meta"]["tokens"]["input_tokens"] == 100
