"""Golden vectors for client dialects: wire request -> internal request, internal result -> wire answer."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.dialects import CLIENT_ROUTES, pick
from tests.dialects.vectors import cases, request_from, request_json, result_from

CASES = cases("clients")


@pytest.mark.parametrize(("name", "file", "case"), CASES)
def test_route_picks_the_dialect(name: str, file: dict[str, Any], case: dict[str, Any]) -> None:
    """The route hands this body to the dialect the golden file is named after."""
    assert pick(CLIENT_ROUTES[file["route"]], case["request"]).name == name


@pytest.mark.parametrize(("name", "file", "case"), CASES)
def test_request_parses_to_the_internal_request(name: str, file: dict[str, Any], case: dict[str, Any]) -> None:
    """The client's body becomes exactly the recorded internal request."""
    dialect = pick(CLIENT_ROUTES[file["route"]], case["request"])
    assert request_json(dialect.parse(case["request"])) == case["parsed"]


@pytest.mark.parametrize(("name", "file", "case"), CASES)
def test_result_renders_to_the_wire_answer(name: str, file: dict[str, Any], case: dict[str, Any]) -> None:
    """The internal result becomes exactly the recorded answer in the client's dialect."""
    dialect = pick(CLIENT_ROUTES[file["route"]], case["request"])
    rendered = dialect.render(result_from(case["result"]), request_from(case["parsed"]))
    assert orjson.loads(orjson.dumps(rendered)) == case["rendered"]
