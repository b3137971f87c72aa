"""The gateway's error hierarchy: each error carries what a client or a log needs."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.model import Attempt


class GatewayError(Exception):
    """Base of every error the edge renders; `status` is the HTTP status sent."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class BadRequest(GatewayError):
    """Raised when a client request is malformed; `field` is the JSON path of the culprit."""

    status = 400
    code = "invalid_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class EmptyInput(BadRequest):
    """Raised when a request has no documents (TEI calls this error type `Empty`)."""

    code = "empty_input"


class PayloadTooLarge(BadRequest):
    """Raised when a request exceeds a configured size limit."""

    status = 413
    code = "payload_too_large"


class Unauthorized(GatewayError):
    """Raised when a gateway API key is missing or wrong."""

    status = 401
    code = "unauthorized"


class Forbidden(GatewayError):
    """Raised when a valid key may not use what it asked for."""

    status = 403
    code = "forbidden"


class NotFound(GatewayError):
    """Raised when the requested model or route does not exist."""

    status = 404
    code = "not_found"


class UnsupportedMediaType(GatewayError):
    """Raised when the request body is not JSON."""

    status = 415
    code = "unsupported_media_type"


class RateLimited(GatewayError):
    """Raised when a gateway key is over its quota."""

    status = 429
    code = "rate_limited"


class BodyTimeout(BadRequest):
    """Raised when a request's body has not all arrived within the longest deadline a request may have.

    A body still arriving holds no room under `limits.max_bytes_in_flight`, but it holds its
    connection and what has arrived of it: without this bound, a client that sends a head and stalls
    would hold them for ever.
    """

    status = 408
    code = "request_timeout"

    def __init__(self, seconds: float) -> None:
        super().__init__(f"$: the request body did not all arrive within {seconds:g} s", field="$")


class Overloaded(GatewayError):
    """Raised when a request waited for room under `limits.max_bytes_in_flight` until its deadline."""

    status = 503
    code = "overloaded"


class UpstreamFailure(GatewayError):
    """Raised when no provider produced a valid answer; carries every attempt."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        attempts: Sequence[Attempt],
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status = status
        self.code = {502: "upstream_error", 503: "no_provider_available", 504: "deadline_exceeded"}.get(
            status, "upstream_error"
        )
        self.attempts = tuple(attempts)


class ProviderError(Exception):
    """Raised by a provider for one failed attempt; the router decides what follows.

    `kind` is a short stable label (`connect`, `timeout`, `http_503`, `invalid_response`, ...).
    `retryable` says whether the same provider may be tried again.
    """

    def __init__(
        self,
        kind: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.detail = detail


class InvalidResponse(ProviderError):
    """Raised when a provider's 2xx body breaks the integrity rules (shape, indices, scores)."""

    def __init__(self, detail: str) -> None:
        super().__init__("invalid_response", retryable=False, detail=detail)


class Unservable(ProviderError):
    """Raised before any call when a provider cannot serve this request (for example images)."""

    def __init__(self, detail: str) -> None:
        super().__init__("unservable", retryable=False, detail=detail)
