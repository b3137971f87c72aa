"""The bytes of client request bodies being worked on at once, bounded: later requests wait their turn.

A request holds about three times its body in memory while it is served (the documents parsed from
it, the body built for the provider, the provider's answer), and it holds it for as long as the
provider takes. Without a bound, a burst of large requests grows the process without limit, and a
container's memory limit ends it. With one, a request whose body would take the total past the
bound waits, in arrival order, once its body is all here (a body still arriving holds no room), and
proceeds as earlier requests finish. A body larger than the bound on its own proceeds when nothing
else is in flight, so every body the size limit admits can be served.
"""

from __future__ import annotations

import asyncio
from collections import deque

import attrs


@attrs.define(eq=False)
class _Waiter:
    size: int
    limit: int
    granted: asyncio.Future[None]


class BytesInFlight:
    """A count of body bytes in flight, with a first-come, first-served queue for those over the limit.

    The limit is passed with each request (it comes from the config the request runs on, so a
    reload changes it for new requests without touching this count).
    """

    def __init__(self) -> None:
        self.used = 0
        #: Requests that waited for room, ever (a counter for metrics).
        self.waited = 0
        self._queue: deque[_Waiter] = deque()

    def take_now(self, size: int, limit: int | None) -> bool:
        """Take `size` bytes at once if there is room and nobody is waiting; False otherwise."""
        if limit is None or (not self._queue and _fits(self.used, size, limit)):
            self.used += size
            return True
        return False

    async def take(self, size: int, limit: int) -> None:
        """Wait for room for `size` bytes, behind every request already waiting."""
        self.waited += 1
        waiter = _Waiter(size, limit, asyncio.get_running_loop().create_future())
        self._queue.append(waiter)
        try:
            await waiter.granted
        except asyncio.CancelledError:  # the client left, or the wait ran out of time
            if waiter.granted.done() and not waiter.granted.cancelled():
                self.give(size)  # granted in the same moment it was cancelled: hand the room on
            else:
                if waiter in self._queue:  # not yet dropped by `_grant` as cancelled
                    self._queue.remove(waiter)
                self._grant()  # a large waiter at the head may have held back smaller ones behind it
            raise

    def give(self, size: int) -> None:
        """Give back what `take_now` or `take` took; wakes waiters that now fit, in order."""
        self.used -= size
        self._grant()

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def _grant(self) -> None:
        queue = self._queue
        while queue:
            head = queue[0]
            if head.granted.done():  # cancelled while waiting: its request is gone
                queue.popleft()
                continue
            if not _fits(self.used, head.size, head.limit):
                return  # strict arrival order: nobody overtakes the head
            queue.popleft()
            self.used += head.size
            head.granted.set_result(None)


def _fits(used: int, size: int, limit: int) -> bool:
    # Alone, any body fits: the size limit already bounds a single one.
    return used == 0 or used + size <= limit
