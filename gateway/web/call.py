"""One client request and its answer as the edge sees them, whichever HTTP server read the request.

Two servers read requests: the fast lane (gateway/web/fastlane.py) reads well-formed rerank POSTs,
aiohttp reads everything else. Both hand the edge (gateway/web/middlewares.py) and the rerank
handler a `Call`, and the rerank handler answers with an `Answer`, so request ids, auth, errors,
the access log and metrics are written once for both.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
from aiohttp import web

from gateway.dialects import ClientDialect
from gateway.model import Attempt, Usage


@attrs.define(slots=True)
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


@attrs.define(slots=True, eq=False)
class Call:
    """A client request: what the edge and the handlers read of it, and what they learn as it goes."""

    app: web.Application
    method: str
    path: str
    #: Looked up by lower-case name (aiohttp's headers are case-insensitive; the fast lane's are lower-cased).
    headers: Mapping[str, str]
    info: AccessInfo
    #: The client dialect of the rerank route the request came in on, if any.
    route: ClientDialect | None = None
    #: The dialect the body chose, on routes several dialects share.
    speaker: ClientDialect | None = None

    @property
    def dialect(self) -> ClientDialect | None:
        """The client dialect serving this request (errors are written in it): the body's, else the route's."""
        return self.speaker or self.route


@attrs.define(slots=True)
class Answer:
    """A whole answer: status, header fields (Content-Type among them) and body."""

    status: int
    body: bytes
    headers: dict[str, str]


def to_response(answer: Answer) -> web.Response:
    """The answer as an aiohttp response."""
    return web.Response(body=answer.body, status=answer.status, headers=answer.headers)
