"""A lexical relevance scorer: BM25 over words plus character-trigram overlap, scores in [0, 1].

No weights, no network, deterministic. Words are Unicode-aware (casefolded, NFKC); scripts
written without spaces (Chinese, Japanese, Thai, ...) are split into character bigrams, and the
trigram term catches inflections (apple / apples) and compounds that exact words miss.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

_WORD = re.compile(r"\w+")
# Han, Hiragana, Katakana, Hangul syllables, Thai, Lao, Khmer, Myanmar: no spaces between words.
_UNSPACED = re.compile(
    r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
)
K1 = 1.2
B = 0.75
#: Share of the final score that comes from trigram overlap; the rest is squashed BM25.
TRIGRAM_WEIGHT = 0.3


def normalise(text: str) -> str:
    """NFKC and casefold, so width and case variants compare equal."""
    return unicodedata.normalize("NFKC", text).casefold()


def tokens(text: str) -> list[str]:
    """Words, with unspaced scripts turned into overlapping character bigrams."""
    out: list[str] = []
    for word in _WORD.findall(normalise(text)):
        if _UNSPACED.search(word):
            out.extend(_split_unspaced(word))
        else:
            out.append(word)
    return out


def _split_unspaced(word: str) -> list[str]:
    out: list[str] = []
    pos = 0
    for m in _UNSPACED.finditer(word):
        if m.start() > pos:
            out.append(word[pos : m.start()])
        run = m.group()
        out.extend(run if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
        pos = m.end()
    if pos < len(word):
        out.append(word[pos:])
    return out


def trigrams(text: str) -> set[str]:
    """Character trigrams of each word, padded so short words still have some."""
    grams: set[str] = set()
    for word in _WORD.findall(normalise(text)):
        padded = f" {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def score(query: str, documents: Sequence[str]) -> list[float]:
    """One score in [0, 1] per document, higher is more relevant."""
    q_terms = set(tokens(query))
    q_grams = trigrams(query)
    doc_terms = [Counter(tokens(d)) for d in documents]
    n = len(documents)
    avg_len = (sum(sum(c.values()) for c in doc_terms) / n) if n else 0.0
    df = Counter(t for c in doc_terms for t in q_terms if t in c)
    idf = {t: math.log(1.0 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in q_terms}
    scores = []
    for text, counts in zip(documents, doc_terms, strict=True):
        length = sum(counts.values())
        norm = K1 * (1 - B + B * length / avg_len) if avg_len else K1
        bm25 = sum(idf[t] * counts[t] * (K1 + 1) / (counts[t] + norm) for t in q_terms if t in counts)
        overlap = len(q_grams & trigrams(text)) / len(q_grams) if q_grams else 0.0
        scores.append((1 - TRIGRAM_WEIGHT) * bm25 / (bm25 + 1.0) + TRIGRAM_WEIGHT * overlap)
    return scores
