"""Golden vectors for provider dialects: internal request -> wire body, wire answer -> internal ranking."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.dialects import PROVIDER_DIALECTS
from tests.dialects.vectors import cases, load, names, ranking_json, request_from


def test_every_provider_type_has_vectors() -> None:
    """Each registered provider type has a golden file, so a new dialect cannot ship without one."""
    assert names("providers") == sorted(PROVIDER_DIALECTS)


@pytest.mark.parametrize("name", names("providers"))
def test_path_headers_and_limit(name: str) -> None:
    """The documented path, the auth headers for a key, and the per-call document limit."""
    golden = load("providers", name)
    dialect = PROVIDER_DIALECTS[name]
    assert (dialect.path, dialect.max_documents) == (golden["path"], golden["max_documents"])
    assert dialect.headers("sk-test") == golden["headers"]


@pytest.mark.parametrize(("name", "file", "case"), cases("providers"))
def test_request_builds_the_wire_body(name: str, file: dict[str, Any], case: dict[str, Any]) -> None:
    """The internal request becomes exactly the recorded body for this provider type."""
    request = request_from(case["request"])
    built = PROVIDER_DIALECTS[name].build(
        request, model=case["model"], documents=request.documents, top_n=case["top_n"]
    )
    assert built == case["built"]


@pytest.mark.parametrize(("name", "file", "case"), cases("providers", key="answers"))
def test_answer_parses_to_the_ranking(name: str, file: dict[str, Any], case: dict[str, Any]) -> None:
    """The provider's documented answer becomes exactly the recorded indices, scores and usage."""
    ranking = PROVIDER_DIALECTS[name].parse(case["answer"], count=case["count"], expected=case["expected"])
    assert ranking_json(ranking) == case["ranking"]
