"""Provider knobs: mapped where the provider has a field, dropped with a debug log where it has not."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.conftest import StartFake, StartGateway, model

DOCS = ["apple pie", "banana bread", "cherry tart"]


async def post_through(
    provider: str, route: str, body: dict[str, Any], start_fake: StartFake, start_gateway: StartGateway
) -> dict[str, Any]:
    """Send `body` on `route` to a gateway over one fake of this type; return what the fake received."""
    fake, url = await start_fake(provider)
    gateway = await start_gateway(
        {"providers": {"p": {"type": provider, "base_url": url}}, "models": {"m": model(("p", "x"))}}
    )
    resp = await gateway.post(route, json=body)
    assert resp.status == 200, await resp.text()
    return fake.received[0]


@pytest.mark.parametrize(
    ("provider", "field", "value"),
    [("voyage", "truncation", False), ("tei", "truncate", False), ("nvidia", "truncate", "NONE")],
)
async def test_voyage_truncation_false_asks_each_provider_for_errors(
    provider: str, field: str, value: object, start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A Voyage client's `truncation: false` becomes each provider's own "do not truncate"."""
    body = {"query": "apple", "documents": DOCS, "model": "m", "top_k": None, "truncation": False}
    sent = await post_through(provider, "/voyage/v1/rerank", body, start_fake, start_gateway)
    assert sent[field] == value


@pytest.mark.parametrize("provider", ["tei", "nvidia"])
async def test_truncation_is_on_when_the_client_did_not_say(
    provider: str, start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """Providers that error on long inputs by default are asked to truncate when the client left it open."""
    sent = await post_through(
        provider, "/v1/rerank", {"model": "m", "query": "apple", "documents": DOCS}, start_fake, start_gateway
    )
    assert sent["truncate"] in (True, "END")


@pytest.mark.parametrize(
    ("provider", "field"), [("tei", "raw_scores"), ("infinity", "raw_scores"), ("vllm", "use_activation")]
)
async def test_tei_raw_scores_reach_providers_that_have_them(
    provider: str, field: str, start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """A TEI client's `raw_scores: true` becomes `raw_scores` (TEI, Infinity) or `use_activation: false` (vLLM)."""
    sent = await post_through(
        provider, "/rerank", {"query": "apple", "texts": DOCS, "raw_scores": True}, start_fake, start_gateway
    )
    assert sent[field] is (field == "raw_scores")


async def test_instruction_maps_to_dashscope_instruct(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """The `instruction` extension becomes DashScope's `parameters.instruct`."""
    body = {"model": "m", "query": "apple", "documents": DOCS, "instruction": "Rank desserts"}
    sent = await post_through("dashscope", "/v2/rerank", body, start_fake, start_gateway)
    assert sent["parameters"] == {"return_documents": False, "instruct": "Rank desserts"}


async def test_unmapped_knobs_are_dropped_with_a_debug_line(
    start_fake: StartFake, start_gateway: StartGateway, caplog: pytest.LogCaptureFixture
) -> None:
    """Cohere v1 has no instruction or token limit: both are left out, each with a debug log naming it."""
    body = {"model": "m", "query": "apple", "documents": DOCS, "instruction": "Rank desserts", "max_tokens_per_doc": 64}
    with caplog.at_level(logging.DEBUG, logger="gateway.dialects"):
        sent = await post_through("cohere", "/v2/rerank", body, start_fake, start_gateway)
    assert "instruction" not in sent
    assert "max_tokens_per_doc" not in sent
    dropped = {(r.provider_type, r.knob) for r in caplog.records if r.getMessage() == "knob dropped"}  # type: ignore[attr-defined]
    assert dropped == {("cohere", "instruction"), ("cohere", "max_tokens_per_doc")}
