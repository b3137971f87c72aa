"""vLLM rerank (`/rerank` with `documents`, which Infinity shares): `results[]`, `usage`, nested errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from gateway.dialects import base, outbound
from gateway.errors import BadRequest, EmptyInput, GatewayError
from gateway.model import Document, Original, Ranking, RerankRequest, RerankResult


@attrs.frozen(kw_only=True)
class VllmBody:
    """A vLLM or Infinity rerank request: vLLM's fields and Infinity's `raw_scores` / `return_documents`."""

    query: str
    documents: list[Original]
    model: str | None = None
    top_n: int | None = None
    return_documents: bool | None = None
    raw_scores: bool | None = None
    use_activation: bool | None = None
    truncate_prompt_tokens: int | None = None
    priority: int | None = None
    request_id: str | None = None
    user: str | None = None
    #: A gateway extension, for LLM rerankers that take a task instruction (SiliconFlow, DashScope).
    instruction: str | None = None


@attrs.frozen(kw_only=True)
class VllmClient:
    """The client side of vLLM / Infinity: documents echoed as vLLM does unless `return_documents: false`."""

    name: str = "vllm"

    def parse(self, body: Any) -> RerankRequest:
        wire: VllmBody = base.structure_client(body, VllmBody)
        if wire.top_n is not None and wire.top_n < 0:
            raise BadRequest("$.top_n: must be 0 (all) or more", field="$.top_n")
        return RerankRequest(
            model=wire.model or "",
            query=base.check_query(wire.query),
            documents=documents_from(wire.documents),
            top_n=wire.top_n or None,
            return_documents=wire.return_documents is not False,
            raw_scores=bool(wire.raw_scores) or wire.use_activation is False,
            # Only "truncate" survives: a token count has no equivalent at most providers.
            truncate=True if wire.truncate_prompt_tokens is not None else None,
            instruction=wire.instruction,
        )

    def render(self, result: RerankResult, request: RerankRequest) -> Any:
        rows = []
        for r, doc in base.ResultView(result, request).rows():
            item: dict[str, Any] = {"index": r.index, "relevance_score": r.score}
            if request.return_documents:
                multi = doc.original.get("content") if isinstance(doc.original, dict) else None
                item["document"] = {"text": doc.text, "multi_modal": multi}
            rows.append(item)
        tokens = result.usage.input_tokens or 0
        return {
            "id": result.id,
            "object": "rerank",
            "model": result.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            "results": rows,
        }

    def render_error(self, error: GatewayError) -> Any:
        field = getattr(error, "field", None)
        body: dict[str, Any] = {
            "error": {"message": error.message, "type": error.code, "param": field, "code": error.status}
        }
        attempts = base.attempts_json(error)
        if attempts is not None:
            body["attempts"] = attempts
        return body


def documents_from(items: Sequence[Original], path: str = "$.documents") -> tuple[Document, ...]:
    """Strings, or vLLM's multimodal `{"content": [parts]}`: text parts joined, the first image kept."""
    if not items:
        raise EmptyInput(f"{path}: must contain at least one document", field=path)
    return tuple(
        Document(item, item) if isinstance(item, str) else _content(item, f"{path}[{i}]")
        for i, item in enumerate(items)
    )


def _content(item: dict[str, Any], at: str) -> Document:
    parts = item.get("content")
    if set(item) != {"content"} or not isinstance(parts, list):
        raise BadRequest(f"{at}: expected a string or {{'content': [parts]}}", field=at)
    texts, images = [], []
    for k, part in enumerate(parts):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url" and isinstance(url := (part.get("image_url") or {}).get("url"), str):
            images.append(url)
        else:
            at_part = f"{at}.content[{k}]"
            raise BadRequest(f"{at_part}: expected a text or image_url part", field=at_part)
    return Document("\n".join(texts), item, image=images[0] if images else None)


@attrs.frozen(kw_only=True)
class VllmProvider:
    """The provider side of vLLM: `top_n` (absent = all), `use_activation`, images as content parts."""

    type: str = "vllm"
    path: str = "/rerank"
    max_documents: int = 1000

    def headers(self, api_key: str | None) -> dict[str, str]:
        return outbound.bearer(api_key)

    def build(self, request: RerankRequest, *, model: str, documents: Sequence[Document], top_n: int | None) -> Any:
        # `truncate_prompt_tokens: -1` would say "truncate", but vLLM releases before it existed reject it.
        outbound.dropped(self.type, request, "truncate", "max_tokens_per_doc", "instruction")
        body: dict[str, Any] = {"model": model, "query": request.query, "documents": [_part(d) for d in documents]}
        if top_n is not None:
            body["top_n"] = top_n
        if request.raw_scores:
            body["use_activation"] = False
        return body

    def parse(self, body: Any, *, count: int, expected: int) -> Ranking:
        return parse_openai(body, count=count, expected=expected)


def parse_openai(body: Any, *, count: int, expected: int) -> Ranking:
    """`results[]` with `relevance_score` and `usage.prompt_tokens` / `total_tokens` (vLLM, Infinity)."""
    usage = outbound.token_usage(body, ("usage", "total_tokens"), ("usage", "prompt_tokens"))
    return outbound.read(body, count=count, expected=expected, usage=usage, score="relevance_score")


def _part(doc: Document) -> str | dict[str, Any]:
    if doc.image is None:
        return doc.text
    parts: list[dict[str, Any]] = [{"type": "text", "text": doc.text}] if doc.text else []
    parts.append({"type": "image_url", "image_url": {"url": doc.image}})
    return {"content": parts}
