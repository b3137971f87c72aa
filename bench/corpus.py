"""Request bodies for the benchmark: a query and N documents of 50 words, the same bytes every run."""

from __future__ import annotations

import random
from pathlib import Path

import orjson

_WORDS = (  # noqa: SIM905 - a paragraph of words reads better than a 90-item list literal
    "the of and to in is was for on that with as by at from his her an which are be this were had have "
    "city river mountain capital federal swiss lake train bridge market school museum cuisine harbour "
    "valley forest castle church station garden village tower island coast border language history "
    "population university festival industry bank watch chocolate cheese tunnel glacier alpine canton "
    "parliament council election treaty trade route north south east west old new large small famous"
).split()
MODEL = "bench"
QUERY = "which city is the federal capital of switzerland"


def document(rng: random.Random, words: int = 50) -> str:
    """One document of `words` words drawn from a small vocabulary."""
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def body(count: int, *, words: int = 50, model: str = MODEL) -> bytes:
    """A Cohere v1 request body with `count` documents, deterministic for a given count."""
    rng = random.Random(count)
    docs = [document(rng, words) for _ in range(count)]
    return orjson.dumps({"model": model, "query": QUERY, "documents": docs})


def write(folder: Path, count: int) -> Path:
    """Write the body for `count` documents into `folder`; wrk reads it from there."""
    path = folder / f"body-{count}.json"
    path.write_bytes(body(count))
    return path
