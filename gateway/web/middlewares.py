"""The edge: request id, auth, errors as JSON in the caller's dialect, access log, metrics.

`serve` does it for a request whichever server read it; `edge` is the aiohttp middleware that calls it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeVar

import attrs
import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from gateway.dialects import CLIENT_ROUTES
from gateway.dialects.base import new_id
from gateway.errors import Forbidden, GatewayError, NotFound, PayloadTooLarge, Unauthorized, UpstreamFailure
from gateway.runtime import same_secret
from gateway.web.call import AccessInfo, Answer, Call, to_response
from gateway.web.keys import CALL, LIVE, METRICS, ROUTE_DIALECTS, Live, runtime

log = logging.getLogger("gateway.access")
errors_log = logging.getLogger("gateway.errors")

#: Paths that need `auth.admin_key` (when auth is on) instead of a gateway key.
ADMIN_PREFIX = "/admin/"
#: Paths any caller may reach, with or without a gateway key.
PUBLIC = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json"})
_FALLBACK = CLIENT_ROUTES["/v1/rerank"]
#: The status logged for a request whose client disconnected before the answer (nginx's convention).
CLIENT_CLOSED = 499
JSON = "application/json"
#: A server's kind of answer: aiohttp's responses, or the fast lane's `Answer`.
R = TypeVar("R")


def request_id(headers: Mapping[str, str]) -> str:
    """The caller's `x-request-id` when it is short printable ASCII, else a new one."""
    given = headers.get("x-request-id", "")
    if 0 < len(given) <= 128 and given.isprintable() and given.isascii():
        return given
    return new_id()


class Lane(Protocol[R]):
    """What the edge needs of the HTTP server that read a request: its kind of answer, and a way to send one."""

    def error(self, call: Call, error: GatewayError) -> R:
        """`error` as this server's answer."""

    def status(self, answer: R) -> int:
        """The answer's HTTP status."""

    async def send(self, call: Call, answer: R, *, keep_alive: bool) -> None:
        """Write the answer (with `x-request-id`), and `Connection: close` unless `keep_alive`."""


async def serve(call: Call, handle: Callable[[Call], Awaitable[R]], lane: Lane[R]) -> R:
    """Serve one request: check its key, render every error as JSON, write the answer, then log and count it.

    The answer is written before the access line and the metrics, so they cost the client no wait.
    """
    start = time.perf_counter()
    info = call.info
    app = call.app
    live, metrics = app[LIVE], app[METRICS]
    generation = live.enter()
    counted = call.path not in PUBLIC
    if counted:
        metrics.in_flight.value += 1
    try:
        answer = await _handle(call, handle, lane)
    except asyncio.CancelledError:
        # The client went away (or the drain ran out): still one access line, with nginx's 499.
        if counted:
            info.outcome = info.outcome or "client_closed"
            _done(call, live, CLIENT_CLOSED, time.perf_counter() - start)
        raise
    finally:
        # Before the answer is written: a client that stops reading must not hold a reload's
        # retirement of the old config (or the in-flight gauge) for as long as it likes.
        live.leave(generation)
        if counted:
            metrics.in_flight.value -= 1
    seconds = time.perf_counter() - start  # the time to answer, as before the answer is written
    status = lane.status(answer)
    try:
        # Draining: ask keep-alive clients to reconnect, so they find a replica that is not shutting down.
        # A 408 (errors.BodyTimeout): the rest of its body may still come, so the connection can carry no other request.
        await lane.send(call, answer, keep_alive=not live.draining and status != 408)
    finally:
        if counted:
            _done(call, live, status, seconds)
    return answer


@web.middleware
async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The edge for requests aiohttp reads: a `Call` for the request, then `serve`."""
    call = Call(request.app, request.method, request.path, request.headers, AccessInfo(request_id(request.headers)))
    resource = request.match_info.route.resource
    if resource is not None:
        call.route = request.app[ROUTE_DIALECTS].get(resource.canonical)
    request[CALL] = call
    return await serve(call, lambda _: handler(request), _Aiohttp(request))


@attrs.frozen
class _Aiohttp:
    """Answers for requests aiohttp reads: its responses, written by the edge itself."""

    request: web.Request

    def error(self, call: Call, error: GatewayError) -> web.StreamResponse:
        return to_response(render_error(call, error))

    def status(self, answer: web.StreamResponse) -> int:
        return answer.status

    async def send(self, call: Call, answer: web.StreamResponse, *, keep_alive: bool) -> None:
        """Write the answer now; aiohttp's own `prepare` and `write_eof` after the middleware then do nothing.

        A client that went away makes the write fail with a ConnectionError: aiohttp meets it again on
        its own `write_eof` and drops the connection, as it did when it wrote first; here it must not
        escape, or aiohttp would take it for a handler error.
        """
        answer.headers["x-request-id"] = call.info.request_id
        if not keep_alive:
            answer.force_close()
        try:
            await answer.prepare(self.request)
            await answer.write_eof()
        except ConnectionError:
            pass


def _done(call: Call, live: Live, status: int, seconds: float) -> None:
    _access(call, status, seconds)
    _measure(call, live, status, seconds)


async def _handle(call: Call, handle: Callable[[Call], Awaitable[R]], lane: Lane[R]) -> R:
    try:
        _authorize(call)
        return await handle(call)
    except GatewayError as exc:
        return lane.error(call, exc)
    except web.HTTPException as exc:
        return lane.error(call, _from_http(exc))
    except Exception:  # noqa: BLE001 - the last line of defence: no traceback ever reaches a client
        errors_log.exception("unhandled error", extra={"request_id": call.info.request_id, "path": call.path})
        return lane.error(call, GatewayError("internal error; the request id is in x-request-id"))


def _from_http(exc: web.HTTPException) -> GatewayError:
    if exc.status == 413:
        return PayloadTooLarge("request body is too large", field="$")
    if exc.status == 404:
        return NotFound("no such route")
    error = GatewayError(exc.reason)
    error.status = exc.status
    error.code = exc.reason.lower().replace(" ", "_")
    return error


def render_error(call: Call, error: GatewayError) -> Answer:
    """An error in the caller's dialect, with Retry-After when there is one."""
    dialect = call.dialect or _FALLBACK
    body: Any = dialect.render_error(error)
    headers = {"Content-Type": JSON}
    if error.retry_after is not None:
        headers["Retry-After"] = str(max(1, round(error.retry_after)))
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    info = call.info
    info.outcome = error.code
    if isinstance(error, UpstreamFailure):
        info.tries = error.attempts
        info.attempts = len(error.attempts)
    return Answer(error.status, orjson.dumps(body), headers)


def _access(call: Call, status: int, seconds: float) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    info = call.info
    fields: dict[str, Any] = {
        "request_id": info.request_id,
        "method": call.method,
        "path": call.path,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "dialect": info.dialect,
        "model": info.model,
        "key": info.key_name,
        "provider": info.provider,
        "attempts": info.attempts,
        "outcome": info.outcome,
        "cache": info.cache,
    }
    if log.isEnabledFor(logging.DEBUG) and info.query is not None:
        # Queries may be personal data: they are logged only when an operator asks for debug.
        fields["query"] = info.query[:256]
    log.info("request", extra=fields)


def _measure(call: Call, live: Live, status: int, seconds: float) -> None:
    metrics = call.app[METRICS]
    info = call.info
    # A label value per client-chosen model name would let any client grow the series without bound.
    model = info.model or "-"
    if info.model is not None and info.model not in live.current.config.models:
        model = "unknown"
    metrics.request_done(model=model, dialect=info.dialect, status=status, seconds=seconds)
    metrics.attempts_made(info.tries, model=model)
    if info.provider is not None and info.usage is not None:
        metrics.answered(provider=info.provider, documents=info.documents, usage=info.usage)


def _authorize(call: Call) -> None:
    """Require `Authorization: Bearer <gateway key>` when the config has `auth`.

    A plain function called by `serve` rather than a middleware of its own: each aiohttp middleware
    adds a wrapper and a coroutine to every request, and the fast lane has no middlewares.
    """
    rt = runtime(call.app)
    if not rt.auth_required or call.path in PUBLIC:
        return
    info = call.info
    header = call.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    if call.path.startswith(ADMIN_PREFIX):
        _check_admin(rt.config.auth.admin_key if rt.config.auth else None, scheme, presented.strip())
        info.key_name = "admin"
        return
    name = rt.key_name(presented.strip()) if scheme.lower() == "bearer" and presented.strip() else None
    if name is None:
        raise Unauthorized("a valid gateway API key is required: Authorization: Bearer <key>")
    info.key_name = name


def _check_admin(admin_key: str | None, scheme: str, presented: str) -> None:
    """Admin paths take only the admin key; with auth on and no admin key, they are closed."""
    if admin_key is None:
        raise Forbidden("admin endpoints are off: set auth.admin_key to use them")
    if scheme.lower() != "bearer" or not same_secret(admin_key, presented):
        raise Unauthorized("the admin key is required: Authorization: Bearer <admin key>")
