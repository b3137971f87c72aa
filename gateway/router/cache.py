"""The score cache at the point where the router calls a provider.

A score is kept per (provider entry, upstream model, request options, query, document text and
image) and only reused for that same provider entry, so two providers' score scales never meet in
one answer. Only the documents without a cached score go upstream, in one sub-request with `top_n`
None so that every one of their scores comes back; the answer merges both, indexed into the
client's list.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Awaitable, Callable, Iterable, Sequence
from itertools import repeat
from typing import cast

import attrs
import orjson

from gateway.errors import InvalidResponse
from gateway.model import Document, Ranking, RerankRequest, Usage, ranked_from
from gateway.state import Counters, ScoreStore

Fetch = Callable[[RerankRequest], Awaitable[Ranking]]

#: Request fields that never change a document's score. Every other field (present or future) is
#: part of the key, so a new option can only cost hits, never return a score computed differently.
_NOT_IN_KEY = frozenset({"model", "documents", "top_n", "return_documents"})


def score_keys(scope: str, request: RerankRequest) -> list[str]:
    """One sha256 hex key per document; no text is ever stored in a key, only its hash.

    A key is sha256(header + material): the header names the provider entry and every option that
    can change a score, the material is the document (see `_material`).
    """
    options = dict(zip(_KEY_FIELDS, _key_values(request), strict=True))
    # The JSON header closes its own brackets, so (header, document) pairs can never run together.
    header = orjson.dumps([scope, options], option=orjson.OPT_SORT_KEYS) + b"\n"
    docs = request.documents
    as_object = bool(request.rank_fields)
    if all(map(operator.is_, map(_IMAGE, docs), repeat(None))) and (
        not as_object or all(map(isinstance, map(_ORIGINAL, docs), repeat(str)))
    ):
        # Text only, as most requests are: the materials made in C, no Python call per document.
        materials: Iterable[bytes] = map(str.encode, map(_TEXT, docs))
    else:
        materials = [_material(doc, as_object=as_object) for doc in docs]
    # Copying a hash that has taken the header costs less than a new one per document (OpenSSL 3
    # looks the algorithm up again for every new object).
    copy = hashlib.sha256(header).copy
    keys = []
    for material in materials:
        h = copy()
        h.update(material)
        keys.append(h.hexdigest())
    return keys


#: The request fields in a key, in field order, and a getter for all of them at once.
_KEY_FIELDS = tuple(a.name for a in attrs.fields(RerankRequest) if a.name not in _NOT_IN_KEY)
_key_values = operator.attrgetter(*_KEY_FIELDS)
_TEXT = operator.attrgetter("text")
_IMAGE = operator.attrgetter("image")
_ORIGINAL = operator.attrgetter("original")


def _material(doc: Document, *, as_object: bool) -> bytes:
    # The image decides the score too (an image-only document has the text ""). 0xFF never occurs
    # in UTF-8, so no text document's material equals an image document's: a text-only provider
    # can never answer an image from the scores it cached for text.
    material = doc.text.encode() if doc.image is None else b"\xff" + orjson.dumps([doc.text, doc.image])
    if not as_object or isinstance(doc.original, str):
        return material
    # With rank_fields, object documents go upstream as objects: the whole object decides the score.
    return material + b"\x00" + orjson.dumps(doc.original, option=orjson.OPT_SORT_KEYS)


@attrs.frozen(kw_only=True)
class ScoreCache:
    """Answers from cached scores where it can, and fetches only the rest."""

    store: ScoreStore
    counters: Counters

    async def answer(self, scope: str, request: RerankRequest, fetch: Fetch) -> tuple[Ranking, str]:
        """The full ranking (every document, unsorted) and `hit`, `partial` or `miss`."""
        keys = score_keys(scope, request)
        unique = list(dict.fromkeys(keys))
        scores = await self.store.get(unique)
        usage = Usage()
        if None not in scores:  # every score cached: no Python code per document
            missing: list[str] = []
            known: dict[str, float] = dict(zip(unique, cast("list[float]", scores), strict=True))
        else:
            known = {k: v for k, v in zip(unique, scores, strict=True) if v is not None}
            missing = [k for k in unique if k not in known]
            fresh, usage = await self._fetch(request, keys, missing, fetch)
            await self.store.put(fresh)
            known.update(fresh)
        results = ranked_from(enumerate(map(known.__getitem__, keys)))
        outcome = "miss" if len(missing) == len(unique) else "partial" if missing else "hit"
        self._count(outcome, cached=len(keys) - _covered(keys, missing), upstream=len(missing))
        return Ranking(results=results, usage=usage), outcome

    async def _fetch(
        self, request: RerankRequest, keys: Sequence[str], missing: Sequence[str], fetch: Fetch
    ) -> tuple[dict[str, float], Usage]:
        first: dict[str, int] = {}
        for i, k in enumerate(keys):
            first.setdefault(k, i)
        # Each distinct missing document once; duplicates in the client's list share its score.
        sub = attrs.evolve(request, documents=tuple(request.documents[first[k]] for k in missing), top_n=None)
        ranking = await fetch(sub)
        fresh = {missing[r.index]: r.score for r in ranking.results}
        if len(fresh) != len(missing):
            raise InvalidResponse(f"expected a score for each of {len(missing)} documents, got {len(fresh)}")
        return fresh, ranking.usage

    def _count(self, outcome: str, *, cached: int, upstream: int) -> None:
        c = self.counters
        if outcome == "hit":
            c.cache_hit += 1
        elif outcome == "partial":
            c.cache_partial += 1
        else:
            c.cache_miss += 1
        c.cache_documents_cached += cached
        c.cache_documents_upstream += upstream


def _covered(keys: Sequence[str], missing: Sequence[str]) -> int:
    """How many of the client's documents the fetched keys stand for (duplicates included)."""
    if not missing:
        return 0
    wanted = set(missing)
    return sum(1 for k in keys if k in wanted)
