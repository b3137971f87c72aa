"""Middlewares: request id and access log, errors as JSON in the caller's dialect, auth."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from gateway.dialects import CLIENT_ROUTES
from gateway.errors import GatewayError, NotFound, PayloadTooLarge, Unauthorized
from gateway.web.keys import ACCESS, AccessInfo, dialect_of, runtime

log = logging.getLogger("gateway.access")
errors_log = logging.getLogger("gateway.errors")

#: Paths any caller may reach, with or without a gateway key.
PUBLIC = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json"})
_FALLBACK = CLIENT_ROUTES["/v1/rerank"]


def _request_id(request: web.Request) -> str:
    given = request.headers.get("x-request-id", "")
    if 0 < len(given) <= 128 and given.isprintable() and given.isascii():
        return given
    return os.urandom(16).hex()  # as random as uuid4().hex, without building a UUID object


@web.middleware
async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give every request an id, render every error as JSON, and write one access-log line."""
    start = time.perf_counter()
    info = AccessInfo(_request_id(request))
    request[ACCESS] = info
    try:
        response = await handler(request)
    except GatewayError as exc:
        response = render_error(request, exc)
    except web.HTTPException as exc:
        response = render_error(request, _from_http(exc))
    except Exception:  # noqa: BLE001 - the last line of defence: no traceback ever reaches a client
        errors_log.exception("unhandled error", extra={"request_id": info.request_id, "path": request.path})
        response = render_error(request, GatewayError("internal error; the request id is in x-request-id"))
    response.headers["x-request-id"] = info.request_id
    _access(request, info, response.status, time.perf_counter() - start)
    return response


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
    return response


def _access(request: web.Request, info: AccessInfo, status: int, seconds: float) -> None:
    if request.path in PUBLIC or not log.isEnabledFor(logging.INFO):
        return
    log.info(
        "request",
        extra={
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
        },
    )


@web.middleware
async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Require `Authorization: Bearer <gateway key>` when the config has `auth`."""
    rt = runtime(request.app)
    if not rt.auth_required or request.path in PUBLIC:
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    name = rt.key_name(presented.strip()) if scheme.lower() == "bearer" and presented.strip() else None
    if name is None:
        raise Unauthorized("a valid gateway API key is required: Authorization: Bearer <key>")
    request[ACCESS].key_name = name
    return await handler(request)
