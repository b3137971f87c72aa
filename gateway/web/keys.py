"""Every typed key of app and request state, and small accessors for them."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping

import attrs
from aiohttp import web

from gateway.dialects import ClientDialect
from gateway.metrics import Metrics
from gateway.runtime import Runtime
from gateway.state import State
from gateway.web.call import Call
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


LIVE = web.AppKey("live", Live)
METRICS = web.AppKey("metrics", Metrics)
ROUTE_DIALECTS = web.AppKey("route_dialects", Mapping[str, ClientDialect])
#: The process's shared state (one Redis pool); every runtime of this app, across reloads, uses it.
STATE = web.AppKey("state", State)
#: The client body bytes being served now, bounded by `limits.max_bytes_in_flight` (per process).
BYTES_IN_FLIGHT = web.AppKey("bytes_in_flight", BytesInFlight)
#: The request as the edge sees it (see gateway/web/call.py), on requests aiohttp reads.
CALL = web.RequestKey("call", Call)


def runtime(app: web.Application) -> Runtime:
    """The runtime new requests should use."""
    return app[LIVE].current
