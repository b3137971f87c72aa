"""Strict structuring keeps its exact error paths while the fast path (no detailed validation) does the work."""

from __future__ import annotations

import math

import pytest

from gateway.dialects import outbound
from gateway.dialects.cohere import V1Client
from gateway.errors import BadRequest, InvalidResponse
from gateway.model import Usage
from tests.conftest import StartGateway, model

CONFIG = {"providers": {"local": {"type": "local"}}, "models": {"m": model(("local", "bm25"))}}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"model": "m", "query": "q", "documents": ["a", 5]}, "$.documents[1]", "expected a string or an object"),
        ({"model": "m", "query": "q", "documents": "abc"}, "$.documents", "expected an array, got a string"),
        ({"model": "m", "query": "q", "documents": ["a"], "top_n": "2"}, "$.top_n", "expected an integer"),
        ({"model": "m", "query": "q", "documents": ["a"], "top_n": True}, "$.top_n", "expected an integer"),
        ({"model": "m", "query": 7, "documents": ["a"]}, "$.query", "expected a string, got an integer"),
        ({"model": "m", "query": "q", "documents": ["a"], "extra": 1}, "$", "unknown field(s): extra"),
        ({"model": "m", "documents": ["a"]}, "$.query", "required field is missing"),
        ({"model": "m", "query": "q", "documents": ["a", None]}, "$.documents[1]", "expected a string or an object"),
        ({"model": "m", "query": "q", "documents": [True]}, "$.documents[0]", "expected a string or an object"),
        ({"model": "m", "query": "q", "documents": [1.5]}, "$.documents[0]", "expected a string or an object"),
        ({"model": "m", "query": "q", "documents": [["a"]]}, "$.documents[0]", "expected a string or an object"),
        ({"model": "m", "query": "q", "documents": ["a"], "rank_fields": ["t", 1]}, "$.rank_fields[1]", "expected a"),
    ],
)
async def test_client_errors_name_the_field(
    start_gateway: StartGateway, body: dict[str, object], field: str, message: str
) -> None:
    """A malformed client request is a 400 whose message and field name the offending JSON path."""
    client = await start_gateway(CONFIG)
    resp = await client.post("/v1/rerank", json=body)
    assert resp.status == 400
    data = await resp.json()
    assert data["field"] == field
    assert data["message"].startswith(f"{field}: ")
    assert message in data["message"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/rerank", {"query": "q", "texts": ["a", 1]}, "$.texts[1]"),
        ("/rerank", {"query": "q", "texts": ["a", {"text": "b"}]}, "$.texts[1]"),
        ("/voyage/v1/rerank", {"model": "m", "query": "q", "documents": ["a", {"text": "b"}]}, "$.documents[1]"),
        ("/v2/rerank", {"model": "m", "query": "q", "documents": ["a", None]}, "$.documents[1]"),
        ("/jina/v1/rerank", {"model": "m", "query": "q", "documents": [False]}, "$.documents[0]"),
    ],
)
async def test_string_lists_refuse_other_items_in_every_dialect(
    start_gateway: StartGateway, path: str, body: dict[str, object], field: str
) -> None:
    """A document list with an item of the wrong type is a 400 naming that item, whichever dialect sent it."""
    client = await start_gateway(CONFIG)
    resp = await client.post(path, json=body)
    assert resp.status == 400
    data = await resp.json()
    assert data["field"] == field


def test_client_parse_reports_every_problem_count() -> None:
    """Several client problems give the first path and say how many more there are."""
    with pytest.raises(BadRequest) as caught:
        V1Client().parse({"model": "m", "query": 1, "documents": [1, 2]})
    assert caught.value.field == "$.query"
    assert "(and 2 more problem(s))" in caught.value.message


@pytest.mark.parametrize(
    ("results", "message"),
    [
        ([{"index": True, "relevance_score": 0.5}], "$.results[0].index: expected an integer"),
        ([{"index": 0, "relevance_score": "0.5"}], "$.results[0].relevance_score: expected a finite number"),
        ([{"index": 0, "relevance_score": 1e999}], "$.results[0].relevance_score: expected a finite number"),
        ([{"index": 0}], "$.results[0].relevance_score: expected a finite number"),
        ([{"index": 0, "relevance_score": 0.5}, 3], "$.results[1]: expected an object"),
        ([{"index": 0, "relevance_score": 0.5}, "row"], "$.results[1]: expected an object"),
        ([{"index": 0, "relevance_score": 0.5}, [1, 0.2]], "$.results[1]: expected an object"),
        ([{"index": 0, "relevance_score": 0.5}, None], "$.results[1]: expected an object"),
        ([{"index": 1.0, "relevance_score": 0.5}], "$.results[0].index: expected an integer"),
        ([{"relevance_score": 0.5}], "$.results[0].index: expected an integer"),
        ([{"index": 0, "relevance_score": None}], "$.results[0].relevance_score: expected a finite number"),
        ([{"index": 0, "relevance_score": float("nan")}], "$.results[0].relevance_score: expected a finite number"),
        ([{"index": 1, "relevance_score": 0.5}, {"index": 0, "relevance_score": -math.inf}], "$.results[1].relevance_"),
        (
            [{"index": 0, "relevance_score": 0.5}, {"index": 0, "relevance_score": 0.4}],
            "index 0 appears more than once",
        ),
        ([{"index": 0, "relevance_score": 0.5}, {"index": 2, "relevance_score": 0.4}], "index 2 is out of range"),
        ([{"index": -1, "relevance_score": 0.5}], "index -1 is out of range"),
    ],
)
def test_provider_errors_name_the_path(results: list[object], message: str) -> None:
    """A malformed provider answer is an InvalidResponse whose detail names the JSON path."""
    with pytest.raises(InvalidResponse) as caught:
        outbound.read({"results": results}, count=2, expected=len(results), usage=Usage(), score="relevance_score")
    assert caught.value.detail.startswith(message)


def test_provider_answers_are_read_exactly() -> None:
    """A valid answer reads to the same values, integers as floats, unknown keys ignored."""
    answer = {"results": [{"index": 1, "relevance_score": 1}, {"index": 0, "relevance_score": 0.25, "x": 1}]}
    ranking = outbound.read(answer, count=2, expected=2, usage=Usage(), score="relevance_score")
    assert [(r.index, r.score) for r in ranking.results] == [(1, 1.0), (0, 0.25)]
    assert isinstance(ranking.results[0].score, float)


def test_provider_answer_with_the_wrong_count_is_refused() -> None:
    """Fewer results than asked for (and than sent) is an InvalidResponse saying how many came."""
    answer = {"results": [{"index": 0, "relevance_score": 0.5}]}
    with pytest.raises(InvalidResponse) as caught:
        outbound.read(answer, count=3, expected=2, usage=Usage(), score="relevance_score")
    assert caught.value.detail == "expected 2 results, got 1"


def test_finite_scores_whose_sum_overflows_are_read() -> None:
    """Huge but finite scores are valid even where adding them up would overflow."""
    answer = {"results": [{"index": 0, "relevance_score": 1e308}, {"index": 1, "relevance_score": 1e308}]}
    ranking = outbound.read(answer, count=2, expected=2, usage=Usage(), score="relevance_score")
    assert [(r.index, r.score) for r in ranking.results] == [(0, 1e308), (1, 1e308)]
