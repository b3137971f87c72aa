"""Golden vectors: JSON files of wire bodies and the internal values they must turn into, both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest

from gateway.model import Attempt, Document, Ranked, Ranking, RerankRequest, RerankResult, Usage

GOLDEN = Path(__file__).resolve().parent / "golden"


def load(kind: str, name: str) -> dict[str, Any]:
    """One golden file, `golden/<kind>/<name>.json`."""
    data: dict[str, Any] = orjson.loads((GOLDEN / kind / f"{name}.json").read_bytes())
    return data


def names(kind: str) -> list[str]:
    """Every dialect with a golden file of this kind."""
    return sorted(p.stem for p in (GOLDEN / kind).glob("*.json"))


def cases(kind: str, key: str = "cases") -> list[Any]:
    """A pytest param (file name, file, case) for every case of every file of this kind."""
    params: list[Any] = []
    for name in names(kind):
        data = load(kind, name)
        params.extend(pytest.param(name, data, case, id=f"{name}:{case['name']}") for case in data[key])
    return params


def request_from(data: dict[str, Any]) -> RerankRequest:
    """An internal request from its JSON form."""
    docs = tuple(Document(d["text"], d["original"], d.get("image")) for d in data["documents"])
    rank_fields = data.get("rank_fields")
    fields = {**data, "documents": docs, "rank_fields": tuple(rank_fields) if rank_fields else None}
    return RerankRequest(**fields)


def request_json(request: RerankRequest) -> dict[str, Any]:
    """An internal request in JSON form, every field present."""
    fields = {**attrs.asdict(request, recurse=False), "documents": [d._asdict() for d in request.documents]}
    data: dict[str, Any] = orjson.loads(orjson.dumps(fields))
    return data


def result_from(data: dict[str, Any]) -> RerankResult:
    """An internal result from `{"results": [[index, score], ...], "usage": {...}}`."""
    return RerankResult(
        id=data.get("id", "result-id"),
        model=data.get("model", "m"),
        results=tuple(Ranked(i, s) for i, s in data["results"]),
        usage=Usage(**data.get("usage", {})),
        provider="p",
        attempts=(Attempt(provider="p", model="m", outcome="ok", status=200),),
    )


def ranking_json(ranking: Ranking) -> dict[str, Any]:
    """A provider's parsed answer in JSON form: `[index, score]` pairs as sent, and usage."""
    return {"results": [[r.index, r.score] for r in ranking.results], "usage": attrs.asdict(ranking.usage)}
