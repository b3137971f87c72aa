"""Helpers every provider dialect shares: auth, capability checks, dropped knobs, reading answers."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import Any

from gateway.dialects.base import number, ranking
from gateway.errors import InvalidResponse, Unservable
from gateway.model import Document, Ranking, RerankRequest, Usage, ranked_from

log = logging.getLogger("gateway.dialects")

#: Document fields by position: a tuple subscript in C, where a field name goes through the class.
_TEXT = itemgetter(Document._fields.index("text"))
_IMAGE = itemgetter(Document._fields.index("image"))


def bearer(api_key: str | None) -> dict[str, str]:
    """The `Authorization: Bearer` header most providers use; nothing when there is no key."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def text_only(type_: str, documents: Sequence[Document]) -> None:
    """Refuse image documents for a provider that ranks text only (the router then skips it)."""
    images = list(map(_IMAGE, documents))  # one C-speed pass; the offender is looked for only when there is one
    if images.count(None) != len(images):
        i = next(i for i, image in enumerate(images) if image is not None)
        raise Unservable(f"document {i} is an image and provider type {type_!r} ranks text only")


def dropped(type_: str, request: RerankRequest, *knobs: str) -> None:
    """Log, at debug, each knob the client set that this provider type has no field for."""
    unset = {"truncate": None, "max_tokens_per_doc": None, "instruction": None, "raw_scores": False}
    for knob in knobs:
        if getattr(request, knob) != unset[knob]:
            log.debug("knob dropped", extra={"provider_type": type_, "knob": knob})


def objects(documents: Sequence[Document], request: RerankRequest) -> tuple[list[Any], list[str]] | None:
    """Originals and rank_fields for providers that take object documents, if every document is one.

    `rank_fields` is always sent, `["text"]` by default: that is Cohere's default, and Together
    would otherwise rank on every key.
    """
    if not documents or not all(isinstance(d.original, dict) for d in documents):
        return None
    return [d.original for d in documents], list(request.rank_fields or ("text",))


def object_body(
    type_: str,
    request: RerankRequest,
    *,
    model: str,
    documents: Sequence[Document],
    top_n: int | None,
    keys: tuple[str, str, str],
) -> dict[str, Any]:
    """The body of providers that take object documents with `rank_fields` (Cohere v1, Together, Mixedbread).

    `keys` names their (documents, top-k, echo flag) fields; top-k is left out for "all", and the
    echo is always off, since the gateway echoes from the request.
    """
    text_only(type_, documents)
    dropped(type_, request, "truncate", "max_tokens_per_doc", "instruction", "raw_scores")
    docs_key, top_key, echo_key = keys
    body: dict[str, Any] = {"model": model, "query": request.query}
    passed = objects(documents, request)
    if passed is not None:
        body[docs_key], body["rank_fields"] = passed
    else:
        body[docs_key] = texts(documents)
    if top_n is not None:
        body[top_key] = top_n
    body[echo_key] = False
    return body


def texts(documents: Sequence[Document]) -> list[str]:
    """The text of each document: strings as sent, objects already serialized by their rank_fields."""
    return list(map(_TEXT, documents))


def items(body: Any, *, container: Sequence[str], score: str) -> Iterator[tuple[int, float]]:
    """The (index, score) pairs of an answer, checked for shape: integer indices, finite numbers."""
    rows: Any = body
    at = "$"
    for key in container:
        rows = rows.get(key) if isinstance(rows, dict) else None
        at += f".{key}"
    if not isinstance(rows, list):
        raise InvalidResponse(f"{at}: expected an array")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidResponse(f"{at}[{i}]: expected an object")
        index, value = row.get("index"), row.get(score)
        if isinstance(index, bool) or not isinstance(index, int):
            raise InvalidResponse(f"{at}[{i}].index: expected an integer")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidResponse(f"{at}[{i}].{score}: expected a finite number")
        yield index, float(value)


def read(
    body: Any, *, count: int, expected: int, usage: Usage, container: Sequence[str] = ("results",), score: str
) -> Ranking:
    """Read and check an answer: every index once and in range, the right number of results."""
    rows: Any = body
    for key in container:
        rows = rows.get(key) if type(rows) is dict else None
    fast = _fast_read(rows, count=count, expected=expected, usage=usage, score=score)
    if fast is not None:
        return fast
    # Something is off (or merely unusual, like integer scores): the detailed reader decides, row by
    # row, and names the first bad row's JSON path.
    return ranking(items(body, container=container, score=score), count=count, expected=expected, usage=usage)


_INDEX = itemgetter("index")
_INTS = {int}
_FLOATS = {float}


def _fast_read(rows: Any, *, count: int, expected: int, usage: Usage, score: str) -> Ranking | None:
    """The usual answer checked whole-column at C speed; None when any rule might be broken.

    The same rules as `items` + `ranking`: rows are objects, indices exact integers (not booleans),
    each in range and once, scores finite floats, as many as expected.
    """
    if type(rows) is not list or not rows:
        return None
    try:
        # A row that is not an object, or lacks a key, raises here (a string row: TypeError).
        indices = list(map(_INDEX, rows))
        scores = list(map(itemgetter(score), rows))
    except (KeyError, TypeError, IndexError):
        return None
    # Only floats (no int, bool, string, null), and their sum finite: an inf or nan anywhere makes
    # it inf or nan (x - x is then not 0). A sum that overflows sends finite scores the slow way.
    total = sum(scores) if set(map(type, scores)) == _FLOATS else math.nan
    n = len(rows)
    if (
        total - total != 0.0
        or set(map(type, indices)) != _INTS
        or min(indices) < 0
        or max(indices) >= count
        or n not in (expected, count)
        or len(set(indices)) != n
    ):
        return None
    return Ranking(results=ranked_from(zip(indices, scores, strict=True)), usage=usage)


def token_usage(body: Any, *paths: tuple[str, ...]) -> Usage:
    """Usage from the first token counter present among `paths` (e.g. `usage.total_tokens`)."""
    for path in paths:
        value = number(body, *path)
        if value is not None:
            return Usage(input_tokens=value)
    return Usage()
