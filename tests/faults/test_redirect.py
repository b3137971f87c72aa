"""Fault: the primary answers with a redirect."""

from __future__ import annotations

import pytest

from tests.conftest import StartFake, StartGateway
from tests.fakes.upstream import status
from tests.faults.conftest import BODY, failover, outcomes


@pytest.mark.parametrize("code", [301, 302, 307, 308])
async def test_redirect_is_not_followed(code: int, start_fake: StartFake, start_gateway: StartGateway) -> None:
    """The gateway never follows an upstream redirect (it would carry the API key elsewhere): a 502."""
    elsewhere, elsewhere_url = await start_fake("cohere")
    _, primary_url = await start_fake(
        "cohere", default=status(code, headers={"Location": f"{elsewhere_url}/v1/rerank"})
    )
    client = await start_gateway(failover({"base_url": primary_url, "api_key": "secret"}))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 502
    assert outcomes(await resp.json()) == [f"http_{code}"]
    assert elsewhere.calls == 0
