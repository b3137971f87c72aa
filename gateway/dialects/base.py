"""What a dialect is: the client-side and provider-side protocols, and helpers they share."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Protocol, cast

import attrs
import cattrs

from gateway.convert import STRICT, TOLERANT, error_paths
from gateway.errors import BadRequest, EmptyInput, GatewayError, InvalidResponse, UpstreamFailure
from gateway.model import (
    Attempt,
    Document,
    Original,
    Ranked,
    Ranking,
    RerankRequest,
    RerankResult,
    Usage,
    text_documents,
)

#: Converter for client payloads: unknown keys and wrong types are a 400.
CLIENT = STRICT.copy()
#: Converter for provider answers: unknown keys ignored, what matters still type-checked.
PROVIDER = TOLERANT.copy()


# Tuples, not `str | dict`: a union written in the call is built anew each time and checked at half
# the speed (about 240 against 115 ns), and these run per document or per usage counter.
_STR_OR_DICT = (str, dict)
_NUMBER = (int, float)


def _structure_original(value: Any, _: type) -> Original:
    if isinstance(value, _STR_OR_DICT):
        return value
    raise TypeError("expected a string or an object")


CLIENT.register_structure_hook_func(lambda t: t == Original, _structure_original)


def _fast_list(allowed: set[type], cls: Any) -> None:
    """Take a `cls` list as it is when every item's exact type is in `allowed`; else cattrs' own hook.

    cattrs checks and copies each item through its hook; for the usual client body (every
    document a string or an object) one C-speed pass over the item types says the same. Anything
    else goes through the detailed hook, which names the bad item's path.
    """
    detailed = CLIENT.get_structure_hook(cls)

    def hook(value: Any, t: Any) -> Any:
        if type(value) is list and set(map(type, value)) <= allowed:
            return value
        return detailed(value, t)

    CLIENT.register_structure_hook_func(lambda t: t == cls, hook)


_fast_list({str, dict}, list[Original])
_fast_list({str}, list[str])


class ClientDialect(Protocol):
    """A wire format the gateway serves: parse a request, render a result or an error."""

    @property
    def name(self) -> str:
        """The dialect's name, as logs and metrics show it."""

    def parse(self, body: Any) -> RerankRequest:
        """Turn a decoded JSON body into the internal request; raise BadRequest naming the field."""

    def render(self, result: RerankResult, request: RerankRequest) -> Any:
        """Turn the router's result into this dialect's JSON answer."""

    def render_error(self, error: GatewayError) -> Any:
        """Turn an error into this dialect's error envelope."""


class ProviderDialect(Protocol):
    """A wire format the gateway sends: build a request body, read an answer."""

    @property
    def type(self) -> str:
        """The config `type` that selects this dialect."""

    @property
    def path(self) -> str:
        """The documented path, appended to `base_url` (e.g. `/v1/rerank`)."""

    @property
    def max_documents(self) -> int:
        """How many documents one call may carry by default."""

    def headers(self, api_key: str | None) -> dict[str, str]:
        """The auth (and any other fixed) headers for this provider."""

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        """The JSON body for one call; `top_n` None means ask for every score."""

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        """Read a decoded 2xx body; indices refer to `documents` as sent; raise InvalidResponse."""


def structure_client(body: Any, cls: type[Any]) -> Any:
    """Structure a client body strictly, turning every cattrs problem into a 400 with its path."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object", field="$")
    try:
        return _structure(CLIENT, body, cls)
    except Exception as exc:  # noqa: BLE001 - cattrs raises exception groups of many kinds
        pairs = error_paths(exc)
        path, message = pairs[0]
        more = f" (and {len(pairs) - 1} more problem(s))" if len(pairs) > 1 else ""
        raise BadRequest(f"{path}: {message}{more}", field=path) from None


def structure_provider(body: Any, cls: type[Any]) -> Any:
    """Structure a provider answer tolerantly; a wrong shape is a provider failure."""
    try:
        return _structure(PROVIDER, body, cls)
    except Exception as exc:  # noqa: BLE001 - cattrs raises exception groups of many kinds
        path, message = error_paths(exc)[0]
        raise InvalidResponse(f"{path}: {message}") from None


#: Copies of CLIENT and PROVIDER without detailed validation, made on first use (after every dialect
#: module registered its hooks at import). Same hooks, same strictness; several times faster on
#: 1,000-item lists, because cattrs no longer wraps every field and item in its own error bookkeeping.
_FAST: dict[int, cattrs.Converter] = {}


def _structure(conv: cattrs.Converter, body: Any, cls: type[Any]) -> Any:
    """Structure with the fast copy of `conv`; when it refuses, `conv` itself raises the detailed errors."""
    fast = _FAST.get(id(conv))
    if fast is None:
        fast = _FAST[id(conv)] = conv.copy(detailed_validation=False)
    try:
        return fast.structure(body, cls)
    except Exception:  # noqa: BLE001 - any refusal: the detailed converter below reports it with its path
        return conv.structure(body, cls)


def documents_from(
    items: Sequence[Original], *, rank_fields: Sequence[str] | None, path: str = "$.documents"
) -> tuple[Document, ...]:
    """Turn client documents (strings or objects) into internal documents, with a 400 per bad one."""
    if not items:
        raise EmptyInput(f"{path}: must contain at least one document", field=path)
    if set(map(type, items)) == _STR:
        return text_documents(cast("Sequence[str]", items))
    docs = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            docs.append(Document(item, item))
        else:
            docs.append(_object_doc(item, rank_fields, f"{path}[{i}]"))
    return tuple(docs)


_STR = {str}


def _object_doc(item: dict[str, Any], rank_fields: Sequence[str] | None, at: str) -> Document:
    image = item.get("image")
    if image is None:
        return Document(_object_text(item, rank_fields, at), item)
    if not isinstance(image, str) or not image:
        raise BadRequest(f"{at}.image: expected a URL or base64 string", field=f"{at}.image")
    # Jina m0 form: `{"image": ...}` alone, or with a `text` that is ranked along with it.
    text = _object_text(item, rank_fields, at) if rank_fields or "text" in item else ""
    return Document(text, item, image=image)


def _object_text(item: dict[str, Any], rank_fields: Sequence[str] | None, at: str) -> str:
    if not rank_fields:
        text = item.get("text")
        if not isinstance(text, str):
            raise BadRequest(f"{at}.text: an object document needs a string `text` field", field=f"{at}.text")
        return text
    # Several fields: "key: value" lines, the YAML-like form Cohere recommends for structured data.
    lines = []
    for field in rank_fields:
        value = item.get(field)
        if value is None:
            continue
        lines.append(f"{field}: {value}" if len(rank_fields) > 1 else str(value))
    return "\n".join(lines)


def check_query(query: str, *, path: str = "$.query") -> str:
    """Refuse an empty or whitespace-only query, as the upstreams would."""
    if not query.strip():
        raise BadRequest(f"{path}: must not be empty or only whitespace", field=path)
    return query


def check_top_n(top_n: int | None, *, path: str = "$.top_n") -> int | None:
    """Refuse top_n below 1; None means every document."""
    if top_n is not None and top_n < 1:
        raise BadRequest(f"{path}: must be at least 1", field=path)
    return top_n


def ranking(pairs: Iterable[tuple[int, float]], *, count: int, expected: int, usage: Usage) -> Ranking:
    """Check a provider's (index, score) pairs: each index once and in range, the right number."""
    seen = bytearray(count)
    results = []
    for index, score in pairs:
        if not 0 <= index < count:
            raise InvalidResponse(f"index {index} is out of range for {count} documents")
        if seen[index]:
            raise InvalidResponse(f"index {index} appears more than once")
        seen[index] = 1
        results.append(Ranked(index, score))
    if len(results) != expected and len(results) != count:
        raise InvalidResponse(f"expected {expected} results, got {len(results)}")
    return Ranking(results=tuple(results), usage=usage)


def number(mapping: Any, *keys: str) -> int | None:
    """Read a usage counter at a key path, tolerating absence and odd types."""
    value = mapping
    for key in keys:
        # Decoded JSON objects are dicts; the Mapping ABC check cost ~10k instructions per usage read.
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return count(value)


def member(value: Any, key: str) -> Mapping[str, Any]:
    """`value[key]` when `value` is a JSON object and that member is one too; else an empty object.

    For dialects that read several counters under one object: each step of the path is read once.
    """
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else _NO_MEMBERS


_NO_MEMBERS: Mapping[str, Any] = MappingProxyType({})


def count(value: Any) -> int | None:
    """A usage counter's value: a JSON number as an int, None for anything else."""
    if isinstance(value, bool) or not isinstance(value, _NUMBER):
        return None
    return int(value)


def new_id() -> str:
    """A 128-bit random id in hex (request ids, answers whose upstream gave none).

    Ids are unique labels, not secrets: the module PRNG (seeded from os.urandom, reseeded in a
    forked child) gives them without a getrandom system call per id.
    """
    return f"{random.getrandbits(128):032x}"


def echo_text(doc: Document) -> dict[str, Any]:
    """The `{"text": ...}` echo most dialects use; object documents are echoed as sent."""
    return doc.original if isinstance(doc.original, dict) else {"text": doc.text}


def error_fields(error: GatewayError) -> dict[str, Any]:
    """What every error envelope carries besides its message: the code, the field, the attempts."""
    fields: dict[str, Any] = {"type": error.code}
    field = getattr(error, "field", None)
    if field:
        fields["field"] = field
    attempts = attempts_json(error)
    if attempts is not None:
        fields["attempts"] = attempts
    return fields


def attempts_json(error: GatewayError) -> list[dict[str, Any]] | None:
    """The attempt list for error bodies: provider, outcome, status and duration, nothing secret."""
    if not isinstance(error, UpstreamFailure):
        return None
    return [_attempt_json(a) for a in error.attempts]


def _attempt_json(a: Attempt) -> dict[str, Any]:
    row: dict[str, Any] = {
        "provider": a.provider,
        "outcome": a.outcome,
        "status": a.status,
        "duration_ms": round(a.duration_ms, 1),
    }
    if a.outcome == "unservable":
        row["reason"] = a.detail
    return row


@attrs.frozen
class ResultView:
    """A result with the request it answers, so renderers can echo documents by index."""

    result: RerankResult
    request: RerankRequest

    def rows(self) -> Iterable[tuple[Ranked, Document]]:
        """Each ranked result with its document from the client's list."""
        docs = self.request.documents
        return ((r, docs[r.index]) for r in self.result.results)
