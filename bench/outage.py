"""Retry amplification during a total outage of the primary: upstream calls per client request.

Runs the real gateway in process against two fake upstreams on loopback (the primary answers 503
to everything, the backup answers), sends a load of requests, and prints how many calls each
upstream saw per client request: once with the breaker out of the way (the retry budget alone)
and once with default settings (budget and breaker). Usage: python -m bench.outage [requests]
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway import config as config_mod
from gateway.app import create_app
from tests.fakes.upstream import FakeUpstream, status


async def run(requests: int, *, breaker: dict[str, Any] | None) -> tuple[float, float, int]:
    """(primary calls, backup calls) per request, and the number of 200s."""
    primary, backup = FakeUpstream("cohere", default=status(503)), FakeUpstream("cohere")
    servers = [TestServer(primary.app()), TestServer(backup.app())]
    for server in servers:
        await server.start_server()
    spec: dict[str, Any] = {
        "providers": {
            "primary": {"type": "cohere", "base_url": str(servers[0].make_url("")), "max_retries": 2},
            "backup": {"type": "cohere", "base_url": str(servers[1].make_url("")), "max_retries": 2},
        },
        "models": {"m": {"providers": [{"provider": "primary"}, {"provider": "backup"}]}},
    }
    if breaker is not None:
        spec["resilience"] = {"breaker": breaker}
    app: web.Application = create_app(config_mod.parse(yaml.safe_dump(spec), env={}))
    ok = 0
    async with TestClient(TestServer(app)) as client:
        body = {"model": "m", "query": "q", "documents": ["a", "b", "c"]}
        for _ in range(requests // 50):
            answers = await asyncio.gather(*(client.post("/v1/rerank", json=body) for _ in range(50)))
            ok += sum(r.status == 200 for r in answers)
    for server in servers:
        await server.close()
    return primary.calls / requests, backup.calls / requests, ok


async def main(requests: int) -> None:
    """Print the figures for both settings."""
    print(f"{requests} requests, primary fails 100% with 503, max_retries 2, retry budget ratio 0.2")
    for label, breaker in (("budget only", {"failures": 10**9, "min_calls": 10**9}), ("budget + breaker", None)):
        p, b, ok = await run(requests, breaker=breaker)
        print(f"  {label:<17} primary {p:.3f}/req  backup {b:.3f}/req  total {p + b:.3f}/req  200s {ok}/{requests}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
