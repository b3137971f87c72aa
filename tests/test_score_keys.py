"""Score-cache keys are sha256 of a documented material, the same however they are computed.

Replicas share keys through Redis, so a key must not change between versions of the gateway that
compute it differently: each is sha256(header + material), the header being the JSON of the
provider entry and every option that can change a score, the material the document.
"""

from __future__ import annotations

import hashlib

import orjson

from gateway.model import Document, RerankRequest
from gateway.router.cache import score_keys


def header(scope: str, **options: object) -> bytes:
    fields: dict[str, object] = {"query": "q", "rank_fields": None, "truncate": None, "max_tokens_per_doc": None}
    fields |= {"instruction": None, "raw_scores": False, **options}
    return orjson.dumps([scope, fields], option=orjson.OPT_SORT_KEYS) + b"\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


TEXTS = ["apple", "é ü", "", "word " * 100]


def test_text_documents_are_keyed_by_their_utf8_text() -> None:
    """A text document's key is sha256(header + its text in UTF-8); the options are in the header."""
    request = RerankRequest(
        model="m", query="q", documents=tuple(Document(t, t, None) for t in TEXTS), top_n=1, instruction="be brief"
    )
    head = header("scope", instruction="be brief")
    assert score_keys("scope", request) == [sha(head + t.encode()) for t in TEXTS]


def test_one_image_document_keys_the_others_as_text_still() -> None:
    """In a list with an image, the image's material is 0xFF + JSON [text, image]; the texts' keys do not change."""
    image = Document("a cat", {"image": "https://i/cat.png"}, "https://i/cat.png")
    request = RerankRequest(model="m", query="q", documents=(*(Document(t, t, None) for t in TEXTS), image))
    head = header("scope")
    expected = [sha(head + t.encode()) for t in TEXTS]
    expected.append(sha(head + b"\xff" + orjson.dumps(["a cat", "https://i/cat.png"])))
    assert score_keys("scope", request) == expected


def test_object_documents_with_rank_fields_are_keyed_by_the_whole_object() -> None:
    """With rank_fields, an object document's material adds 0x00 + its sorted JSON; a string one stays its text."""
    obj = {"title": "t1", "body": "b"}
    request = RerankRequest(
        model="m", query="q", documents=(Document("t1", obj, None), Document("t2", "t2", None)), rank_fields=("title",)
    )
    head = header("scope", rank_fields=["title"])
    expected = [sha(head + b"t1" + b"\x00" + orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)), sha(head + b"t2")]
    assert score_keys("scope", request) == expected
