"""A property-based fuzz run of the whole API from its own OpenAPI document: no 5xx, answers as documented."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import schemathesis
from aiohttp import web
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from gateway import config as config_mod
from gateway.app import create_app

CONFIG = {
    "providers": {"local": {"type": "local"}},
    "models": {"m": {"providers": [{"provider": "local", "model": "bm25"}]}},
    "limits": {"max_documents": 50, "max_query_chars": 2000, "max_document_chars": 2000},
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    """The real gateway, served on a loopback port by an event loop in a thread of its own."""
    loop = asyncio.new_event_loop()
    app = create_app(config_mod.parse(orjson.dumps(CONFIG).decode(), env={}))
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=30)
    loop.close()


def load(url: str, *, phase: str) -> Any:
    """The document the gateway serves, loaded by schemathesis for one phase, pointed at the gateway."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    schema.config.update(base_url=url)
    schema.config.phases.update(phases=[phase])
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=60, database="none"
    )

    @schema.hook
    def map_case(context: Any, case: Any) -> Any:
        # A generated model name is almost never a configured one: point valid requests at the
        # configured model so the fuzz reaches the router and the ranker, not only the 404.
        if case.meta.generation.mode == GenerationMode.POSITIVE and isinstance(case.body, dict):
            case.body["model"] = "m"
        return case

    return schema


@pytest.fixture
def boundary_schema(gateway_url: str) -> Any:
    """Schemathesis' coverage phase: each field at its limits, of the wrong type, missing, and so on."""
    return load(gateway_url, phase="coverage")


@pytest.fixture
def random_schema(gateway_url: str) -> Any:
    """Schemathesis' fuzzing phase: random valid and invalid requests drawn by hypothesis."""
    return load(gateway_url, phase="fuzzing")


boundaries = schemathesis.pytest.from_fixture("boundary_schema")
randomly = schemathesis.pytest.from_fixture("random_schema")


@boundaries.parametrize()
def test_boundary_inputs_get_documented_answers(case: Any) -> None:
    """Inputs at and past every documented limit get a documented, non-5xx answer; invalid ones are refused."""
    case.call_and_validate(checks=CHECKS)


@randomly.parametrize()
def test_random_inputs_get_documented_answers(case: Any) -> None:
    """Random valid and invalid inputs get a documented, non-5xx answer; invalid ones are refused."""
    case.call_and_validate(checks=CHECKS)
