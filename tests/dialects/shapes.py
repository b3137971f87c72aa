"""How a client of each dialect calls the gateway and reads its answer, as plain HTTP clients would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

#: One result as a client sees it: index into its list, score, the echoed document text if any.
Row = tuple[int, float, str | None]


@attrs.frozen(kw_only=True)
class Shape:
    """A client dialect's request and answer shapes, and where its usage and error message live."""

    route: str
    body: Callable[[str, list[str], int | None, bool], dict[str, Any]]
    read: Callable[[Any], list[Row]]
    tokens: Callable[[Any], Any]
    message: Callable[[Any], Any]
    #: Whether the dialect has a top-k field; without one the client slices the full list.
    top_k: bool = True
    #: Whether the dialect can ask for documents back.
    echo: bool = True


def _cohere_body(q: str, docs: list[str], top_n: int | None, echo: bool) -> dict[str, Any]:
    return {"model": "m", "query": q, "documents": docs, "top_n": top_n, "return_documents": echo}


def _results(answer: Any, key: str = "results", score: str = "relevance_score") -> list[Row]:
    rows = []
    for r in answer[key]:
        doc = r.get("document")
        text = doc.get("text") if isinstance(doc, dict) else doc
        rows.append((r["index"], r[score], text))
    return rows


SHAPES: dict[str, Shape] = {
    "cohere": Shape(
        route="/v1/rerank",
        body=_cohere_body,
        read=_results,
        tokens=lambda a: a["meta"]["billed_units"]["input_tokens"],
        message=lambda e: e["message"],
    ),
    "cohere-v2": Shape(
        route="/v2/rerank",
        body=_cohere_body,
        read=_results,
        tokens=lambda a: a["meta"]["tokens"]["input_tokens"],
        message=lambda e: e["message"],
    ),
    "jina": Shape(
        route="/jina/v1/rerank",
        body=_cohere_body,
        read=_results,
        tokens=lambda a: a["usage"]["total_tokens"],
        message=lambda e: e["detail"],
    ),
    "voyage": Shape(
        route="/voyage/v1/rerank",
        body=lambda q, docs, k, echo: {
            "query": q,
            "documents": docs,
            "model": "m",
            "top_k": k,
            "return_documents": echo,
            "truncation": True,
        },
        read=lambda a: _results(a, "data"),
        tokens=lambda a: a["usage"]["total_tokens"],
        message=lambda e: e["detail"],
    ),
    "tei": Shape(
        route="/rerank",
        body=lambda q, docs, k, echo: {"query": q, "texts": docs, "return_text": echo},
        read=lambda a: [(r["index"], r["score"], r.get("text")) for r in a],
        tokens=lambda a: None,
        message=lambda e: (e["error"], e["error_type"]),
        top_k=False,
    ),
    "vllm": Shape(
        route="/rerank",
        body=lambda q, docs, k, echo: {"model": "m", "query": q, "documents": docs, "top_n": k or 0},
        read=_results,
        tokens=lambda a: a["usage"]["total_tokens"],
        message=lambda e: e["error"]["message"],
    ),
    "nvidia": Shape(
        route="/v1/ranking",
        body=lambda q, docs, k, echo: {
            "model": "m",
            "query": {"text": q},
            "passages": [{"text": d} for d in docs],
            "truncate": "END",
        },
        read=lambda a: [(r["index"], r["logit"], None) for r in a["rankings"]],
        tokens=lambda a: a["usage"]["total_tokens"],
        message=lambda e: e["detail"],
        top_k=False,
        echo=False,
    ),
}
