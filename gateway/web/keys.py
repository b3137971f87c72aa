"""Every typed key of app and request state, and small accessors for them."""

from __future__ import annotations

from collections.abc import Mapping

import attrs
from aiohttp import web

from gateway.dialects import ClientDialect
from gateway.runtime import Runtime
from gateway.state import State


@attrs.define
class Live:
    """Holds the runtime in use; a reload swaps `current`, requests keep the one they started on."""

    current: Runtime
    draining: bool = False


@attrs.define
class AccessInfo:
    """What the access log line says about one request, filled in as the request goes."""

    request_id: str
    dialect: str = "-"
    model: str | None = None
    key_name: str | None = None
    provider: str | None = None
    attempts: int = 0
    outcome: str | None = None


LIVE = web.AppKey("live", Live)
ROUTE_DIALECTS = web.AppKey("route_dialects", Mapping[str, ClientDialect])
#: The process's shared state (one Redis pool); every runtime of this app, across reloads, uses it.
STATE = web.AppKey("state", State)
ACCESS = web.RequestKey("access", AccessInfo)
#: The client dialect chosen for this request's body, on routes several dialects share.
CHOSEN_DIALECT = web.RequestKey("chosen_dialect", ClientDialect)


def runtime(app: web.Application) -> Runtime:
    """The runtime new requests should use."""
    return app[LIVE].current


def dialect_of(request: web.Request) -> ClientDialect | None:
    """The client dialect serving this request: the one its body chose, else its route's, if any."""
    chosen: ClientDialect | None = request.get(CHOSEN_DIALECT)
    if chosen is not None:
        return chosen
    info = request.match_info.route.resource
    if info is None:
        return None
    return request.app[ROUTE_DIALECTS].get(info.canonical)
