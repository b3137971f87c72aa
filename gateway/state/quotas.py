"""Per-key quotas: requests and documents per minute, and model allow-lists, checked at the edge."""

from __future__ import annotations

import math

from gateway.config import ApiKey
from gateway.errors import Forbidden, PayloadTooLarge, RateLimited
from gateway.model import RerankRequest
from gateway.state.base import Charge, QuotaStore

#: rpm and dpm are per minute; windows are fixed and start at a key's first request in them.
WINDOW = 60.0


async def admit(store: QuotaStore, key: ApiKey | None, request: RerankRequest) -> None:
    """Let the request through, or raise Forbidden (model not allowed) or RateLimited (over quota)."""
    if key is None:
        return
    if key.models is not None and request.model not in key.models:
        allowed = ", ".join(key.models) or "none"
        raise Forbidden(f"gateway key {key.name!r} may not use model {request.model!r} (allowed: {allowed})")
    count = len(request.documents)
    if key.dpm is not None and count > key.dpm:
        # Waiting would never help: say so instead of a 429 the client would retry forever.
        raise PayloadTooLarge(
            f"$.documents: {count} documents is more than key {key.name!r} may send per minute ({key.dpm})",
            field="$.documents",
        )
    charges = []
    if key.rpm is not None:
        charges.append(Charge(key=f"{key.name}:requests", cost=1, limit=key.rpm))
    if key.dpm is not None:
        charges.append(Charge(key=f"{key.name}:documents", cost=count, limit=key.dpm))
    if not charges:
        return
    wait = await store.take(charges, window=WINDOW)
    if wait is not None:
        raise RateLimited(
            f"gateway key {key.name!r} is over its quota ({_describe(key)}); retry after the window ends",
            retry_after=math.ceil(wait),  # never invite a retry that comes too early
        )


def _describe(key: ApiKey) -> str:
    parts = [f"{key.rpm} requests" if key.rpm else "", f"{key.dpm} documents" if key.dpm else ""]
    return " and ".join(p for p in parts if p) + " per minute"
