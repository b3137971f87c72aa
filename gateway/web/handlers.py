"""Handlers: decode, hand the internal request to the router, encode in the caller's dialect."""

from __future__ import annotations

import asyncio
import math
import operator
from collections.abc import Awaitable, Callable, Mapping

import attrs
import orjson
from aiohttp import web

from gateway.config import Config, LimitsConfig
from gateway.dialects import WIRE_PATHS, ClientDialect, pick
from gateway.errors import BadRequest, BodyTimeout, Overloaded, PayloadTooLarge
from gateway.metrics import CONTENT_TYPE
from gateway.model import RerankRequest
from gateway.runtime import Runtime
from gateway.web.call import Answer, Call, to_response
from gateway.web.inflight import BytesInFlight
from gateway.web.keys import BYTES_IN_FLIGHT, CALL, LIVE, METRICS, runtime

JSON = "application/json"
TIMEOUT_HEADER = "x-request-timeout"


def rerank_handler(dialect: ClientDialect) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler for one client dialect's rerank route: read the body with room for it, then `rerank`."""

    async def handle(request: web.Request) -> web.Response:
        call = request[CALL]
        call.info.dialect = dialect.name
        rt = call.app[LIVE].current  # this request stays on this config, even across a reload
        room = call.app[BYTES_IN_FLIGHT]
        raw, held, since = await _read_body(request, rt, room)  # room is held only once it returns
        try:
            answering = rerank(call, dialect, rt, raw, since)
            del raw  # `rerank` holds the only reference, and lets go of it once the body is decoded
            return to_response(await answering)
        finally:
            room.give(held)

    return handle


async def rerank(
    call: Call, dialect: ClientDialect, rt: Runtime, raw: bytes | memoryview, since: float | None
) -> Answer:
    """Decode the body in the route's dialect (or the one it speaks), route it, answer in that dialect.

    `since` is when a wait for room began, if the request waited: its deadline counts the wait.
    """
    info = call.info
    body = _decode(raw)
    del raw
    speaker = call.speaker = pick(dialect, body)
    info.dialect = speaker.name
    wanted = _with_model(speaker.parse(body), rt.config)
    del body  # the documents keep what they need; the decoded containers need not wait on the provider
    info.model = wanted.model
    info.query = wanted.query
    _check_limits(wanted, rt.config.limits, paths=WIRE_PATHS.get(speaker.name, {}))
    timeout = _client_timeout(call.headers)
    if since is not None:
        rt.router.check_time_left(wanted, timeout=timeout, since=since)
    await rt.admit(info.key_name, wanted)
    result = await rt.router.rerank(wanted, timeout=timeout, since=since)
    info.provider = result.provider
    info.attempts = len(result.attempts)
    info.cache = result.cache
    info.outcome = "ok"
    info.tries, info.documents, info.usage = result.attempts, len(wanted.documents), result.usage
    # The headers in one mapping, handed over whole: no Python call per field.
    headers = {
        "Content-Type": JSON,
        "x-rerank-provider": result.provider,
        "x-rerank-attempts": str(len(result.attempts)),
        "x-rerank-fallbacks": str(max(0, len({a.provider for a in result.attempts}) - 1)),
        "x-rerank-cache": result.cache,
    }
    return Answer(200, orjson.dumps(speaker.render(result, wanted)), headers)


def _with_model(rerank: RerankRequest, config: Config) -> RerankRequest:
    """Fill in the model for dialects where it is optional (TEI has none): the default, or the only one."""
    if rerank.model:
        return rerank
    if config.default_model is not None:
        return attrs.evolve(rerank, model=config.default_model)
    if len(config.models) == 1:
        return attrs.evolve(rerank, model=next(iter(config.models)))
    raise BadRequest(
        "$.model: required, as this gateway serves several models and has no default_model", field="$.model"
    )


async def take_room(headers: Mapping[str, str], rt: Runtime, room: BytesInFlight, size: int) -> float | None:
    """Take room for `size` body bytes under `limits.max_bytes_in_flight`, at once or after waiting in line.

    Returns when the wait began (on the router's clock), if there was one, so the request's
    deadline counts the wait. The wait is bounded by the longest deadline the request can have; a
    request still waiting then gets 503 with Retry-After. Both lanes take room here.
    """
    limit = rt.config.limits.max_bytes_in_flight
    if not size or room.take_now(size, limit):  # an empty body needs no room, and waits behind nobody
        return None
    assert limit is not None  # take_now always makes room when there is no limit
    began = rt.router.attempts.clock()
    try:
        async with asyncio.timeout(rt.router.longest_deadline(_client_timeout(headers))):
            await room.take(size, limit)
    except TimeoutError:
        raise Overloaded(
            f"the gateway is serving {room.used} bytes of requests (limits.max_bytes_in_flight: {limit}); "
            "this one waited its whole deadline for room",
            retry_after=1,
        ) from None
    return began


def _decode(raw: bytes | memoryview) -> object:
    if not raw:
        raise BadRequest("$: the request body is empty; send a JSON object", field="$")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"$: the body is not valid JSON ({exc.msg} at position {exc.pos})", field="$") from None


async def _read_body(request: web.Request, rt: Runtime, room: BytesInFlight) -> tuple[bytes, int, float | None]:
    """The body, capped at `client_max_size`, in a buffer only the caller holds, with room for all of it.

    The whole body is read first (decoded: aiohttp decodes gzip and deflate), then room is taken
    for it under `limits.max_bytes_in_flight`, waiting in line when there is none. Room is for
    bodies being served: a body still arriving holds none, so a client that sends a head and
    stalls blocks nobody. A body not all here within the longest deadline a request may have is a
    408. Returns the body, the room held for it, and when the wait for room began, if there was one.
    Not `request.read()`: that keeps a bytes copy on the request until the response is sent.
    """
    cap = request.client_max_size
    declared = request.content_length
    if declared is not None and declared > cap:
        raise PayloadTooLarge("request body is too large", field="$")  # refused before reading any of it
    if declared:
        # Buffer a declared body as it arrives, as `read()` does: pausing the socket every 128 KiB
        # (the default) costs more system time in socket calls than the whole parse of the body.
        request.content.set_read_chunk_size(declared)
    chunks: list[bytes] = []
    size = 0
    deadline = rt.router.longest_deadline(None)
    try:
        async with asyncio.timeout(deadline):
            while chunk := await request.content.readany():
                size += len(chunk)
                if size > cap:
                    raise PayloadTooLarge("request body is too large", field="$")
                chunks.append(chunk)
    except TimeoutError:
        raise BodyTimeout(deadline) from None
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)  # usually one chunk: no copy
    del chunks
    return body, size, await take_room(request.headers, rt, room, size)


def _client_timeout(headers: Mapping[str, str]) -> float | None:
    value = headers.get(TIMEOUT_HEADER)
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise BadRequest(f"header {TIMEOUT_HEADER}: must be a positive number of seconds", field=TIMEOUT_HEADER)
    return seconds


def _check_limits(request: RerankRequest, limits: LimitsConfig, *, paths: Mapping[str, str]) -> None:
    """Apply the configured size limits, naming fields as the client's dialect names them."""
    documents, query = paths.get("documents", "$.documents"), paths.get("query", "$.query")
    if len(request.documents) > limits.max_documents:
        raise PayloadTooLarge(
            f"{documents}: {len(request.documents)} documents is over the limit of {limits.max_documents}",
            field=documents,
        )
    if len(request.query) > limits.max_query_chars:
        raise BadRequest(f"{query}: longer than the limit of {limits.max_query_chars} characters", field=query)
    # One C-speed pass for the longest text; the offender is looked for only when there is one.
    if max(map(len, map(_TEXT, request.documents)), default=0) > limits.max_document_chars:
        i = next(i for i, doc in enumerate(request.documents) if len(doc.text) > limits.max_document_chars)
        at = f"{documents}[{i}]"
        raise BadRequest(f"{at}: longer than the limit of {limits.max_document_chars} characters", field=at)


_TEXT = operator.attrgetter("text")


async def models(call: Call) -> Answer:
    """`GET /v1/models`: the models this gateway serves, in the usual list form."""
    config = runtime(call.app).config
    data = [
        {"id": name, "object": "model", "type": m.type, "owned_by": "rerank-gateway"}
        for name, m in config.models.items()
    ]
    return json_answer(orjson.dumps({"object": "list", "data": data}))


async def healthz(call: Call) -> Answer:
    """Liveness: the process serves. Never depends on providers."""
    return json_answer(b'{"status":"ok"}')


async def readyz(call: Call) -> Answer:
    """Readiness: config loaded and listening; 503 while draining."""
    live = call.app[LIVE]
    if live.draining:
        return json_answer(b'{"status":"draining"}', status=503)
    if not live.ready:
        return json_answer(b'{"status":"starting"}', status=503)
    return json_answer(b'{"status":"ready"}')


async def metrics(call: Call) -> Answer:
    """`GET /metrics`: every gateway metric in the Prometheus text format."""
    return Answer(200, call.app[METRICS].exposition(), {"Content-Type": CONTENT_TYPE})


def json_answer(body: bytes, *, status: int = 200) -> Answer:
    """A JSON answer."""
    return Answer(status, body, {"Content-Type": JSON})


def for_aiohttp(handler: Callable[[Call], Awaitable[Answer]]) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler for a handler of calls (the fast lane serves the same handler directly)."""

    async def handle(request: web.Request) -> web.Response:
        return to_response(await handler(request[CALL]))

    return handle
