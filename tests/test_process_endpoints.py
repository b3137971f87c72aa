"""A real gateway process serves its probes, its OpenAPI document and metrics that move with traffic."""

from __future__ import annotations

import signal
from pathlib import Path

import aiohttp
from openapi_spec_validator import OpenAPIV31SpecValidator
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import SEED, model
from tests.gateway_process import GatewayProcess, write_config

CONFIG = {
    "server": {"host": "127.0.0.1", "port": 0, "config_poll_interval": 0},
    "providers": {"local": {"type": "local"}},
    "models": {"m": model(("local", "bm25"))},
}


async def requests_total(session: aiohttp.ClientSession, url: str) -> float:
    """rerank_gateway_requests_total for model m, dialect cohere, status 200, read from /metrics."""
    async with session.get(f"{url}/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    labels = {"model": "m", "dialect": "cohere", "status": "200"}
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "rerank_gateway_requests_total" and s.labels == labels
    )


async def test_probes_document_and_metrics_of_a_real_process(tmp_path: Path) -> None:
    """Probes answer 200, /openapi.json is valid OpenAPI 3.1, and the request counter counts our requests."""
    gateway = await GatewayProcess.start(write_config(tmp_path / "config.yaml", CONFIG))
    try:
        url = f"http://127.0.0.1:{await gateway.port()}"
        async with aiohttp.ClientSession() as session:
            for probe in ("/healthz", "/readyz"):
                assert (await session.get(f"{url}{probe}")).status == 200
            async with session.get(f"{url}/openapi.json") as resp:
                OpenAPIV31SpecValidator(await resp.json()).validate()
            before = await requests_total(session, url)
            for _ in range(5):
                assert (await session.post(f"{url}/v1/rerank", json=SEED)).status == 200
            assert await requests_total(session, url) == before + 5
        gateway.signal(signal.SIGTERM)
        assert await gateway.exit_code() == 0
    finally:
        await gateway.kill()
