"""The internal request and result model that every layer below the edge speaks."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from functools import partial
from itertools import repeat
from typing import Any, NamedTuple

import attrs

#: What a client sent as one document: a string, or an object (Cohere v1 / Jina).
Original = str | dict[str, Any]


class Document(NamedTuple):
    """One candidate document: the text to rank and what the client sent, for the echo.

    `image` (a URL or base64 data) marks a multimodal document; only providers that take images
    can serve a request that has one, the others skip it as unservable.

    A NamedTuple rather than a frozen attrs class (the house default for values): a request holds
    one per document, up to thousands, and a tuple is built at C speed (see `text_documents`),
    where a frozen attrs `__init__` sets each field through `object.__setattr__`.
    """

    text: str
    original: Original
    image: str | None = None


@attrs.frozen(kw_only=True)
class RerankRequest:
    """A rerank call as the router sees it, independent of any wire format."""

    model: str
    query: str
    documents: tuple[Document, ...]
    top_n: int | None = None
    return_documents: bool = False
    rank_fields: tuple[str, ...] | None = None
    truncate: bool | None = None
    max_tokens_per_doc: int | None = None
    instruction: str | None = None
    #: The client asked for raw logits (TEI / Infinity `raw_scores`); providers that can, comply.
    raw_scores: bool = False

    @property
    def has_images(self) -> bool:
        """Whether any document is an image, which text-only providers cannot serve."""
        return any(d.image is not None for d in self.documents)

    @property
    def wanted(self) -> int:
        """How many results the client gets: top_n clamped to the number of documents."""
        n = len(self.documents)
        return n if self.top_n is None else min(self.top_n, n)


class Ranked(NamedTuple):
    """One scored document; `index` points into the client's original list.

    A NamedTuple for the same reason as `Document`: one per result, built in C by `ranked_from`.
    """

    index: int  # type: ignore[assignment]  # shadows tuple.index on purpose: the field is the API
    score: float


#: `tuple.__new__` bound to each class: builds one from a ready tuple of its fields without running
#: any Python code, so `map` over them stays in C.
_new_document: Any = partial(tuple.__new__, Document)
_new_ranked: Any = partial(tuple.__new__, Ranked)


def text_documents(texts: Sequence[str]) -> tuple[Document, ...]:
    """One document per string, the string being both the text and what the client sent."""
    result: tuple[Document, ...] = tuple(map(_new_document, zip(texts, texts, repeat(None))))
    return result


def ranked_from(pairs: Iterable[tuple[int, float]]) -> tuple[Ranked, ...]:
    """One result per (index, score) pair, checked already."""
    result: tuple[Ranked, ...] = tuple(map(_new_ranked, pairs))
    return result


@attrs.frozen(kw_only=True)
class Usage:
    """Usage normalised across providers; None means the provider did not say."""

    input_tokens: int | None = None
    search_units: int | None = None

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=_add(self.input_tokens, other.input_tokens),
            search_units=_add(self.search_units, other.search_units),
        )


def _add(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


@attrs.frozen(kw_only=True)
class Attempt:
    """The record of one try at one provider, for logs, metrics, headers and error bodies.

    Outcomes in SKIPPED mean the provider was passed over without a call (no duration).
    """

    provider: str
    model: str
    outcome: str
    status: int | None = None
    duration_ms: float = 0.0
    #: Why the attempt failed, in words; error bodies show it for unservable attempts only.
    detail: str = ""


#: Outcomes of a provider passed over without calling it: an open breaker, a shared cool-down,
#: documents it cannot take.
SKIPPED = frozenset({"breaker_open", "cooldown", "unservable"})


@attrs.frozen(kw_only=True)
class Ranking:
    """What a provider answered: scores for every document it was sent, and usage."""

    results: tuple[Ranked, ...]
    usage: Usage = Usage()


@attrs.frozen(kw_only=True)
class RerankResult:
    """The router's answer: sorted, cut to top_n, with the attempts that led to it."""

    id: str
    model: str
    results: tuple[Ranked, ...]
    usage: Usage
    provider: str
    attempts: tuple[Attempt, ...]
    #: The score cache's part in this answer: `hit`, `partial`, `miss`, or `off` when not cacheable.
    cache: str = "off"


_INDEX = operator.attrgetter("index")
_SCORE = operator.attrgetter("score")


def sort_and_cut(ranked: list[Ranked], top_n: int | None) -> tuple[Ranked, ...]:
    """Sort by score descending, ties by index, and keep the first top_n."""
    # Two stable C-keyed passes instead of one with a tuple-building lambda: half the time.
    ranked.sort(key=_INDEX)
    ranked.sort(key=_SCORE, reverse=True)
    return tuple(ranked if top_n is None else ranked[:top_n])
