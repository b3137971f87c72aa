"""Each client dialect gets errors in its own envelope, with Retry-After kept when upstreams are overloaded."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.dialects import CLIENT_ROUTES, pick
from gateway.errors import RateLimited
from tests.conftest import StartFake, StartGateway, model
from tests.dialects.shapes import SHAPES
from tests.fakes.upstream import status

DOCS = ["apple", "banana", "cherry"]


def _without_query(client: str) -> dict[str, Any]:
    body = SHAPES[client].body("fruit", DOCS, 2, False)
    del body["query"]
    return body


@pytest.mark.parametrize("client", sorted(SHAPES))
async def test_bad_request_names_the_field_in_the_dialects_envelope(client: str, start_gateway: StartGateway) -> None:
    """A body without its query is a 400 whose message, under the dialect's own key, names `$.query`."""
    gateway = await start_gateway({"providers": {"l": {"type": "local"}}, "models": {"m": model(("l", "bm25"))}})
    resp = await gateway.post(SHAPES[client].route, json=_without_query(client))
    assert resp.status == 400
    message = SHAPES[client].message(await resp.json())
    if client == "tei":
        message, kind = message
        assert kind == "Validation"
    assert message.startswith("$.query")


@pytest.mark.parametrize("client", sorted(SHAPES))
async def test_overloaded_upstream_keeps_retry_after(
    client: str, start_fake: StartFake, start_gateway: StartGateway
) -> None:
    """When the only provider answers 429 with Retry-After, the client gets it back, in its envelope."""
    fake, url = await start_fake("cohere")
    fake.then(status(429, headers={"Retry-After": "7"}))
    spec = {"type": "cohere", "base_url": url, "max_retries": 0}
    gateway = await start_gateway({"providers": {"c": spec}, "models": {"m": model(("c", "rerank-v3.5"))}})
    resp = await gateway.post(SHAPES[client].route, json=SHAPES[client].body("fruit", DOCS, 2, False))
    assert resp.status == 503
    assert resp.headers["Retry-After"] == "7"
    message = SHAPES[client].message(await resp.json())
    if client == "tei":
        message, kind = message
        assert kind == "Unhealthy"
    assert "overloaded" in message


@pytest.mark.parametrize("client", sorted(SHAPES))
def test_rate_limit_error_renders_in_the_dialects_envelope(client: str) -> None:
    """A gateway 429 (a key over its quota) is rendered under the dialect's own message key."""
    shape = SHAPES[client]
    dialect = pick(CLIENT_ROUTES[shape.route], shape.body("q", DOCS, 1, False))
    message = shape.message(dialect.render_error(RateLimited("slow down", retry_after=3)))
    expected = ("slow down", "Overloaded") if client == "tei" else "slow down"
    assert message == expected


async def test_body_that_is_not_json_on_the_shared_route_gets_teis_envelope(start_gateway: StartGateway) -> None:
    """On `/rerank`, before a body says TEI or vLLM, errors use TEI's envelope (the path's owner)."""
    gateway = await start_gateway({"providers": {"l": {"type": "local"}}, "models": {"m": model(("l", "bm25"))}})
    resp = await gateway.post("/rerank", data=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status == 400
    body = await resp.json()
    assert body["error_type"] == "Validation"
    assert body["error"].startswith("$: the body is not valid JSON")


async def test_vllm_errors_are_nested_with_the_status_code(start_gateway: StartGateway) -> None:
    """vLLM and Infinity clients read `error.message`, `error.code` carries the HTTP status."""
    gateway = await start_gateway({"providers": {"l": {"type": "local"}}, "models": {"m": model(("l", "bm25"))}})
    resp = await gateway.post("/rerank", json={"model": "nope", "query": "q", "documents": DOCS})
    assert resp.status == 404
    error = (await resp.json())["error"]
    assert error["code"] == 404
    assert "nope" in error["message"]
