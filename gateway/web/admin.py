"""Admin endpoints: `GET /admin/providers` shows each provider's breaker and health state."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.web.call import Answer, Call
from gateway.web.handlers import json_answer
from gateway.web.keys import runtime


async def providers(call: Call) -> Answer:
    """Every configured provider: type, enabled or why not, breaker state, last health check."""
    rt = runtime(call.app)
    rows: list[dict[str, Any]] = []
    for name, spec in rt.config.providers.items():
        row: dict[str, Any] = {"name": name, "type": spec.type, "enabled": spec.disabled is None}
        if spec.disabled is not None:
            row["disabled_reason"] = spec.disabled
        else:
            view = await rt.resilience.breakers.view(name)
            row["breaker"] = {
                "state": view.state.value,
                "open_for_seconds": round(view.open_for, 3),
                "consecutive_failures": view.consecutive_failures,
                "window_calls": view.window_calls,
                "window_failures": view.window_failures,
                "reason": view.reason,
            }
        if spec.health_check is not None:
            last = rt.health.last.get(name) if rt.health is not None else None
            row["health_check"] = {"interval": spec.health_check.interval, "last": last}
        rows.append(row)
    return json_answer(orjson.dumps({"providers": rows}))
