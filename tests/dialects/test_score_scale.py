"""Scores pass through unchanged by default; `scores: sigmoid` maps a provider's raw logits to [0, 1]."""

from __future__ import annotations

import math

import pytest

from gateway import config as config_mod
from tests.conftest import StartFake, StartGateway, model
from tests.fakes.upstream import det_score

DOCS = ["apple", "banana", "cherry", "date"]
BODY = {"model": "m", "query": "fruit", "documents": DOCS}


async def nim_gateway(scores: str | None, start_fake: StartFake, start_gateway: StartGateway) -> dict[int, float]:
    """Scores by index that a Cohere client sees from a NIM provider with this `scores` setting."""
    _, url = await start_fake("nvidia")
    spec = {"type": "nvidia", "base_url": url} | ({"scores": scores} if scores else {})
    gateway = await start_gateway({"providers": {"n": spec}, "models": {"m": model(("n", "nv-rerank"))}})
    resp = await gateway.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    return {r["index"]: r["relevance_score"] for r in (await resp.json())["results"]}


async def test_nim_logits_pass_through_by_default(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """Without `scores`, a Cohere client gets NIM's raw (negative) logits, unchanged."""
    scores = await nim_gateway(None, start_fake, start_gateway)
    for i, doc in enumerate(DOCS):
        p = det_score("fruit", doc)
        assert scores[i] == pytest.approx(math.log(p / (1 - p)))
    assert min(scores.values()) < 0


async def test_sigmoid_maps_logits_into_zero_one(start_fake: StartFake, start_gateway: StartGateway) -> None:
    """With `scores: sigmoid`, the same answer comes back as probabilities, in the same order."""
    scores = await nim_gateway("sigmoid", start_fake, start_gateway)
    for i, doc in enumerate(DOCS):
        assert scores[i] == pytest.approx(det_score("fruit", doc))


def test_sigmoid_on_the_local_ranker_is_a_config_error() -> None:
    """The local ranker already answers in [0, 1], so asking to squash it again is refused with its path."""
    text = "providers: {l: {type: local, scores: sigmoid}}\nmodels: {m: {providers: [{provider: l}]}}\n"
    with pytest.raises(config_mod.ConfigError, match=r"\$\.providers\.l\.scores"):
        config_mod.parse(text, env={})


def test_unknown_scores_value_is_a_config_error() -> None:
    """`scores` takes `as-is` or `sigmoid`; anything else is refused with its path."""
    text = "providers: {n: {type: nvidia, base_url: 'http://x', scores: softmax}}\n"
    text += "models: {m: {providers: [{provider: n}]}}\n"
    with pytest.raises(config_mod.ConfigError, match=r"scores: expected one of .as-is., .sigmoid."):
        config_mod.parse(text, env={})
