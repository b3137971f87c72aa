"""Outbound TLS: certificates are always verified; a per-provider CA bundle trusts a private CA."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import trustme
from aiohttp.test_utils import TestServer

from gateway.config import ConfigError
from tests.conftest import StartGateway
from tests.fakes.upstream import FakeUpstream
from tests.faults.conftest import BODY, failover, outcomes

StartServer = Callable[..., Awaitable[TestServer]]


@pytest.fixture
def ca() -> trustme.CA:
    """A private certificate authority, as a company might run."""
    return trustme.CA()


async def https_fake(aiohttp_server: StartServer, ca: trustme.CA) -> tuple[FakeUpstream, str]:
    """A Cohere fake served over HTTPS with a certificate from `ca` for 127.0.0.1."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    fake = FakeUpstream("cohere")
    server = await aiohttp_server(fake.app(), ssl=context)
    return fake, f"https://127.0.0.1:{server.port}"


async def test_private_ca_bundle_is_trusted(
    aiohttp_server: StartServer, start_gateway: StartGateway, ca: trustme.CA, tmp_path: Path
) -> None:
    """With `ca_bundle` naming the private CA, the HTTPS upstream is reached and answers."""
    fake, url = await https_fake(aiohttp_server, ca)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    client = await start_gateway(failover({"base_url": url, "ca_bundle": str(bundle)}))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 200
    assert fake.calls == 1


async def test_unknown_ca_is_refused_and_not_retried(
    aiohttp_server: StartServer, start_gateway: StartGateway, ca: trustme.CA
) -> None:
    """Without the bundle the certificate does not verify: a tls_error, never a silent insecure call."""
    fake, url = await https_fake(aiohttp_server, ca)
    client = await start_gateway(failover({"base_url": url, "max_retries": 2}))
    resp = await client.post("/v1/rerank", json=BODY)
    assert resp.status == 502
    assert outcomes(await resp.json()) == ["tls_error"]
    assert fake.calls == 0


async def test_missing_bundle_file_is_a_config_error(start_gateway: StartGateway, tmp_path: Path) -> None:
    """A ca_bundle that does not exist is caught when the config is loaded, with its path."""
    with pytest.raises(ConfigError) as error:
        await start_gateway(failover({"base_url": "https://x.example", "ca_bundle": str(tmp_path / "nope.pem")}))
    assert any(p.startswith("$.providers.primary.ca_bundle: no such file") for p in error.value.problems)


async def test_bundle_that_is_not_pem_is_a_config_error(start_gateway: StartGateway, tmp_path: Path) -> None:
    """A ca_bundle file holding no PEM certificate is caught when the config is loaded, not when providers start."""
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n")
    with pytest.raises(ConfigError) as error:
        await start_gateway(failover({"base_url": "https://x.example", "ca_bundle": str(bundle)}))
    assert error.value.problems == [
        f"$.providers.primary.ca_bundle: '{bundle}' holds no usable PEM certificate (NO_CERTIFICATE_OR_CRL_FOUND)"
    ]
