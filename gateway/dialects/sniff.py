"""Routes shared by several client dialects, told apart by the keys of the request body."""

from __future__ import annotations

from typing import Any

import attrs

from gateway.dialects.base import ClientDialect
from gateway.errors import GatewayError
from gateway.model import RerankRequest, RerankResult


@attrs.frozen(kw_only=True)
class BodySniffer:
    """A client dialect that hands each body to the dialect whose key it carries, else to `default`.

    The edge resolves it per request with `pick` and then speaks only the chosen dialect, so the
    answer and any error after the body was read are in that dialect; errors before that (a body
    that is not JSON) are in the default's envelope.
    """

    name: str
    default: ClientDialect
    by_key: tuple[tuple[str, ClientDialect], ...]

    def choose(self, body: Any) -> ClientDialect:
        """The dialect for this decoded body: the first whose key is present, else the default."""
        if isinstance(body, dict):
            for key, dialect in self.by_key:
                if key in body:
                    return dialect
        return self.default

    def parse(self, body: Any) -> RerankRequest:
        return self.choose(body).parse(body)

    def render(self, result: RerankResult, request: RerankRequest) -> Any:
        return self.default.render(result, request)

    def render_error(self, error: GatewayError) -> Any:
        return self.default.render_error(error)


def pick(dialect: ClientDialect, body: Any) -> ClientDialect:
    """The dialect that serves `body` on a route: itself, or the sniffer's choice."""
    return dialect.choose(body) if isinstance(dialect, BodySniffer) else dialect
