"""A lean HTTP/1.1 client for calling providers: pooled keep-alive connections on asyncio Protocols.

The gateway makes one kind of call (a JSON POST to a fixed URL), so a general client's machinery
(sessions, cookies, redirects, streams, per-request timeout objects) is cost without use on the
hot path. This one builds the request head once per provider, writes each request in one write,
and parses the response as it arrives, strictly and with size caps.
"""

from gateway.providers.wire.connection import Response
from gateway.providers.wire.pool import Pool

__all__ = ["Pool", "Response"]
