"""Requests without a model (TEI has no such field) go to `default_model`, or to the only model."""

from __future__ import annotations

from typing import Any

import pytest

from gateway import config as config_mod
from tests.conftest import StartGateway, model

TEI = {"query": "apple", "texts": ["apple pie", "banana"]}


def config(*models: str, **extra: Any) -> dict[str, Any]:
    """Local-ranker models with these names."""
    return {"providers": {"l": {"type": "local"}}, "models": {m: model(("l", "bm25")) for m in models}, **extra}


async def test_the_only_model_serves_a_tei_client(start_gateway: StartGateway) -> None:
    """With one model configured, a TEI body needs no model."""
    gateway = await start_gateway(config("only"))
    resp = await gateway.post("/rerank", json=TEI)
    assert resp.status == 200
    assert [r["index"] for r in await resp.json()] == [0, 1]


async def test_default_model_serves_when_there_are_several(start_gateway: StartGateway) -> None:
    """With several models, `default_model` picks the one used for bodies without a model."""
    gateway = await start_gateway(config("a", "b", default_model="b"))
    resp = await gateway.post("/rerank", json={"query": "apple", "documents": ["apple pie", "banana"]})
    assert resp.status == 200
    assert (await resp.json())["model"] == "b"


async def test_no_default_among_several_models_is_a_400(start_gateway: StartGateway) -> None:
    """With several models and no default, a body without a model is a 400 naming `$.model`."""
    gateway = await start_gateway(config("a", "b"))
    resp = await gateway.post("/rerank", json=TEI)
    assert resp.status == 400
    body = await resp.json()
    assert body["error_type"] == "Validation"
    assert body["error"].startswith("$.model: required")


def test_unknown_default_model_is_a_config_error() -> None:
    """`default_model` must name a configured model."""
    text = "providers: {l: {type: local}}\nmodels: {a: {providers: [{provider: l}]}}\ndefault_model: b\n"
    with pytest.raises(config_mod.ConfigError, match=r"\$\.default_model: unknown model 'b'"):
        config_mod.parse(text, env={})
