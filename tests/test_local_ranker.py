"""The built-in local ranker: deterministic scores in [0, 1] that make lexical sense, in any script."""

from __future__ import annotations

import math

from gateway.providers.lexical import score, tokens


def test_seed_query_ranks_apple_first() -> None:
    """For the seed call, "apple" is first and unrelated words score lower."""
    scores = score("Apple", ["apple", "banana", "fruit", "vegetable"])
    assert max(range(4), key=lambda i: scores[i]) == 0
    assert scores[0] > 0.5
    assert scores[1] == 0.0


def test_scores_are_deterministic_finite_and_bounded() -> None:
    """The same input gives the same scores, each finite and within [0, 1]."""
    docs = ["the cat sat", "a dog ran", "cats and dogs", "", "🙂 emoji only", "x" * 5000]
    first = score("cat dog", docs)
    assert first == score("cat dog", docs)
    assert all(math.isfinite(s) and 0.0 <= s <= 1.0 for s in first)


def test_more_matching_terms_rank_higher() -> None:
    """A document matching more query terms outranks one matching fewer."""
    scores = score(
        "capital of Switzerland", ["Bern is the capital of Switzerland.", "Zurich is a city in Switzerland."]
    )
    assert scores[0] > scores[1]


def test_inflections_still_match() -> None:
    """Plural and inflected forms match through character trigrams."""
    scores = score("apples", ["apple pie recipe", "car engine repair"])
    assert scores[0] > scores[1]


def test_accented_and_case_variants_match() -> None:
    """Case and Unicode width variants compare equal; German umlauts are kept as letters."""
    scores = score("ÄPFEL kaufen", ["Wo kann man äpfel kaufen?", "Birnen sind gelb"])
    assert scores[0] > scores[1]
    assert tokens("\uff21\uff22\uff23 Straße") == ["abc", "strasse"]


def test_chinese_and_japanese_text_is_split_into_bigrams() -> None:
    """Scripts without spaces are compared by character bigrams, so matches are found."""
    scores = score("日本的首都", ["东京是日本的首都", "巴黎是法国的首都", "苹果很好吃"])
    assert scores[0] > scores[1] > scores[2]
    scores = score("東京の天気", ["今日の東京の天気は晴れ", "大阪の食べ物"])
    assert scores[0] > scores[1]


def test_no_overlap_scores_zero() -> None:
    """A document sharing nothing with the query scores 0."""
    assert score("alpha", ["zzz qqq"]) == [0.0]
