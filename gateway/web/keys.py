"""Every typed key of app and request state, and small accessors for them."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping

import attrs
from aiohttp import web

from gateway.dialects import ClientDialect
from gateway.metrics import Metrics
from gateway.model import Attempt, Usage
from gateway.runtime import Runtime
from gateway.state import State
from gateway.web.inflight import BytesInFlight


@attrs.define
class Live:
    """Holds the runtime in use; a reload swaps `current`, requests keep the one they started on.

    Each swap starts a new generation. A request counts against the generation it started in and
    may use that runtime or a newer one, so an old runtime is safe to close once no request that
    started in its generation, or an earlier one, is still in flight.
    """

    current: Runtime
    #: Set when SIGTERM arrives: readiness fails at once, responses ask clients to reconnect.
    draining: bool = False
    #: Set once the providers are started and the server listens; cleared at shutdown.
    ready: bool = False
    generation: int = 0
    _in_flight: Counter[int] = attrs.field(factory=Counter)
    _left: asyncio.Event = attrs.field(factory=asyncio.Event)

    def enter(self) -> int:
        """Count a request in; returns its generation, to give back to `leave`."""
        self._in_flight[self.generation] += 1
        return self.generation

    def leave(self, generation: int) -> None:
        """Count a request out."""
        self._in_flight[generation] -= 1
        if self._in_flight[generation] <= 0:
            del self._in_flight[generation]
        self._left.set()

    def swap(self, new: Runtime) -> tuple[Runtime, int]:
        """Make `new` the runtime for new requests; returns the old one and its last generation."""
        old, generation = self.current, self.generation
        self.current = new
        self.generation += 1
        return old, generation

    async def drained(self, generation: int) -> None:
        """Wait until no request that started in `generation` or earlier is in flight."""
        while any(g <= generation for g in self._in_flight):
            self._left.clear()
            await self._left.wait()


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
    #: What the score cache did: hit, partial, miss or off.
    cache: str | None = None
    #: What metrics need beyond the log line: each try, and what the answering provider did.
    tries: tuple[Attempt, ...] = ()
    documents: int = 0
    usage: Usage | None = None
    #: Logged only at debug level, never otherwise.
    query: str | None = None


LIVE = web.AppKey("live", Live)
METRICS = web.AppKey("metrics", Metrics)
ROUTE_DIALECTS = web.AppKey("route_dialects", Mapping[str, ClientDialect])
#: The process's shared state (one Redis pool); every runtime of this app, across reloads, uses it.
STATE = web.AppKey("state", State)
#: The client body bytes being served now, bounded by `limits.max_bytes_in_flight` (per process).
BYTES_IN_FLIGHT = web.AppKey("bytes_in_flight", BytesInFlight)
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
