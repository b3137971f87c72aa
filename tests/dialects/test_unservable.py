"""Image documents: text-only providers are skipped with a reason, and a 400 when none can serve them."""

from __future__ import annotations

from tests.conftest import StartFake, StartGateway, model
from tests.fakes.upstream import status

IMAGE = "https://example.com/bern.png"
BODY = {
    "model": "m",
    "query": "federal city",
    "documents": ["Zurich", {"image": IMAGE}, {"text": "Bern", "image": IMAGE}],
}


async def test_text_only_provider_is_skipped_for_one_that_takes_images(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """Cohere cannot rank images, so Jina (m0) serves the request; Cohere is never called."""
    cohere, cohere_url = await start_fake("cohere")
    jina, jina_url = await start_fake("jina")
    providers = {"c": {"type": "cohere", "base_url": cohere_url}, "j": {"type": "jina", "base_url": jina_url}}
    gateway = await start_gateway(
        {"providers": providers, "models": {"m": model(("c", "x"), ("j", "jina-reranker-m0"))}}
    )
    resp = await gateway.post("/jina/v1/rerank", json=BODY)
    assert resp.status == 200
    assert resp.headers["x-rerank-provider"] == "j"
    assert resp.headers["x-rerank-attempts"] == "2"
    assert cohere.calls == 0
    assert jina.received[0]["documents"] == ["Zurich", {"image": IMAGE}, {"image": IMAGE, "text": "Bern"}]
    results = (await resp.json())["results"]
    assert sorted(r["index"] for r in results) == [0, 1, 2]
    assert {r["index"]: r["document"] for r in results}[1] == {"image": IMAGE}


async def test_no_provider_can_serve_images_is_a_400_with_reasons(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """When every provider of the model is text-only, the client gets a 400 naming each and why."""
    fake, url = await start_fake("cohere")
    providers = {"c": {"type": "cohere", "base_url": url}, "l": {"type": "local"}}
    gateway = await start_gateway({"providers": providers, "models": {"m": model(("c", "x"), ("l", "bm25"))}})
    resp = await gateway.post("/v1/rerank", json=BODY)
    assert resp.status == 400
    body = await resp.json()
    assert body["field"] == "$.documents"
    assert "c: document 1 is an image and provider type 'cohere' ranks text only" in body["message"]
    assert "l: the local ranker ranks text only" in body["message"]
    assert fake.calls == 0


async def test_unservable_attempt_is_recorded_once_and_never_retried(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """An unservable provider is one attempt with its reason, not retried, beside the real failures."""
    _, cohere_url = await start_fake("cohere")
    vllm, vllm_url = await start_fake("vllm")
    vllm.then(status(500), status(500))
    providers = {
        "c": {"type": "cohere", "base_url": cohere_url, "max_retries": 3},
        "v": {"type": "vllm", "base_url": vllm_url, "max_retries": 1},
    }
    gateway = await start_gateway({"providers": providers, "models": {"m": model(("c", "x"), ("v", "y"))}})
    resp = await gateway.post(
        "/rerank",
        json={**BODY, "documents": ["Zurich", {"content": [{"type": "image_url", "image_url": {"url": IMAGE}}]}]},
    )
    assert resp.status == 502
    attempts = (await resp.json())["attempts"]
    assert attempts[0]["provider"] == "c"
    assert attempts[0]["outcome"] == "unservable"
    assert "ranks text only" in attempts[0]["reason"]
    assert [a["provider"] for a in attempts] == ["c", "v", "v"]
    assert all("reason" not in a for a in attempts[1:])


async def test_images_with_the_image_provider_skipped_is_a_503(
    start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A text-only provider skipped and the one image provider overloaded or open-breakered: 503, not 502."""
    _, cohere_url = await start_fake("cohere")
    jina, jina_url = await start_fake("jina")
    jina.then(status(503, headers={"Retry-After": "30"}))
    providers = {
        "c": {"type": "cohere", "base_url": cohere_url, "max_retries": 0},
        "j": {"type": "jina", "base_url": jina_url, "max_retries": 0},
    }
    gateway = await start_gateway({"providers": providers, "models": {"m": model(("c", "x"), ("j", "m0"))}})
    for outcome in ("http_503", "breaker_open"):
        resp = await gateway.post("/jina/v1/rerank", json=BODY)
        assert resp.status == 503
        assert int(resp.headers["Retry-After"]) <= 30
        assert [a["outcome"] for a in (await resp.json())["attempts"]] == ["unservable", outcome]
    assert jina.calls == 1
