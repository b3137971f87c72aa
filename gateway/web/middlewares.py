"""The edge middleware: request id, auth, errors as JSON in the caller's dialect, access log, metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from gateway.dialects import CLIENT_ROUTES
from gateway.dialects.base import new_id
from gateway.errors import Forbidden, GatewayError, NotFound, PayloadTooLarge, Unauthorized, UpstreamFailure
from gateway.runtime import same_secret
from gateway.web.keys import ACCESS, LIVE, METRICS, AccessInfo, Live, dialect_of, runtime

log = logging.getLogger("gateway.access")
errors_log = logging.getLogger("gateway.errors")

#: Paths that need `auth.admin_key` (when auth is on) instead of a gateway key.
ADMIN_PREFIX = "/admin/"
#: Paths any caller may reach, with or without a gateway key.
PUBLIC = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json"})
_FALLBACK = CLIENT_ROUTES["/v1/rerank"]
#: The status logged for a request whose client disconnected before the answer (nginx's convention).
CLIENT_CLOSED = 499


def _request_id(request: web.Request) -> str:
    given = request.headers.get("x-request-id", "")
    if 0 < len(given) <= 128 and given.isprintable() and given.isascii():
        return given
    return new_id()


@web.middleware
async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give every request an id, check its key, render every error as JSON, write one access-log line."""
    start = time.perf_counter()
    info = AccessInfo(_request_id(request))
    request[ACCESS] = info
    app = request.app
    live, metrics = app[LIVE], app[METRICS]
    generation = live.enter()
    counted = request.path not in PUBLIC
    if counted:
        metrics.in_flight.value += 1
    try:
        response = await _handle(request, handler, info)
    except asyncio.CancelledError:
        # The client went away (or the drain ran out): still one access line, with nginx's 499.
        if counted:
            info.outcome = info.outcome or "client_closed"
            _done(request, info, live, CLIENT_CLOSED, time.perf_counter() - start)
        raise
    finally:
        # Before the answer is written: a client that stops reading must not hold a reload's
        # retirement of the old config (or the in-flight gauge) for as long as it likes.
        live.leave(generation)
        if counted:
            metrics.in_flight.value -= 1
    response.headers["x-request-id"] = info.request_id
    if live.draining:
        # Ask keep-alive clients to reconnect, so they find a replica that is not shutting down.
        response.force_close()
    if counted:
        seconds = time.perf_counter() - start  # the time to answer, as before the answer is written
        try:
            await _send(request, response)
        finally:
            _done(request, info, live, response.status, seconds)
    return response


async def _send(request: web.Request, response: web.StreamResponse) -> None:
    """Write the answer now, so that the access line and the metrics cost the client no wait.

    aiohttp's own `prepare` and `write_eof` after the middleware then find it sent and do nothing.
    A client that went away makes the write fail with a ConnectionError: aiohttp meets it again on
    its own `write_eof` and drops the connection, as it did when it wrote first; here it must not
    escape, or aiohttp would take it for a handler error.
    """
    try:
        await response.prepare(request)
        await response.write_eof()
    except ConnectionError:
        pass


def _done(request: web.Request, info: AccessInfo, live: Live, status: int, seconds: float) -> None:
    _access(request, info, status, seconds)
    _measure(request, info, live, status, seconds)


async def _handle(request: web.Request, handler: Handler, info: AccessInfo) -> web.StreamResponse:
    try:
        _authorize(request, info)
        return await handler(request)
    except GatewayError as exc:
        return render_error(request, exc)
    except web.HTTPException as exc:
        return render_error(request, _from_http(exc))
    except Exception:  # noqa: BLE001 - the last line of defence: no traceback ever reaches a client
        errors_log.exception("unhandled error", extra={"request_id": info.request_id, "path": request.path})
        return render_error(request, GatewayError("internal error; the request id is in x-request-id"))


def _from_http(exc: web.HTTPException) -> GatewayError:
    if exc.status == 413:
        return PayloadTooLarge("request body is too large", field="$")
    if exc.status == 404:
        return NotFound("no such route")
    error = GatewayError(exc.reason)
    error.status = exc.status
    error.code = exc.reason.lower().replace(" ", "_")
    return error


def render_error(request: web.Request, error: GatewayError) -> web.Response:
    """An error in the caller's dialect, with Retry-After when there is one."""
    dialect = dialect_of(request) or _FALLBACK
    body: Any = dialect.render_error(error)
    response = web.Response(body=orjson.dumps(body), status=error.status, content_type="application/json")
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(max(1, round(error.retry_after)))
    if isinstance(error, Unauthorized):
        response.headers["WWW-Authenticate"] = "Bearer"
    info = request.get(ACCESS)
    if info is not None:
        info.outcome = error.code
        if isinstance(error, UpstreamFailure):
            info.tries = error.attempts
            info.attempts = len(error.attempts)
    return response


def _access(request: web.Request, info: AccessInfo, status: int, seconds: float) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    fields: dict[str, Any] = {
        "request_id": info.request_id,
        "method": request.method,
        "path": request.path,
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


def _measure(request: web.Request, info: AccessInfo, live: Live, status: int, seconds: float) -> None:
    metrics = request.app[METRICS]
    # A label value per client-chosen model name would let any client grow the series without bound.
    model = info.model or "-"
    if info.model is not None and info.model not in live.current.config.models:
        model = "unknown"
    metrics.request_done(model=model, dialect=info.dialect, status=status, seconds=seconds)
    metrics.attempts_made(info.tries, model=model)
    if info.provider is not None and info.usage is not None:
        metrics.answered(provider=info.provider, documents=info.documents, usage=info.usage)


def _authorize(request: web.Request, info: AccessInfo) -> None:
    """Require `Authorization: Bearer <gateway key>` when the config has `auth`.

    A plain function called by `edge` rather than a middleware of its own: each aiohttp middleware
    adds a wrapper and a coroutine to every request.
    """
    rt = runtime(request.app)
    if not rt.auth_required or request.path in PUBLIC:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if request.path.startswith(ADMIN_PREFIX):
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
