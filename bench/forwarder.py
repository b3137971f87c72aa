"""The floor for a Python gateway: a bare aiohttp server that forwards request bytes unchanged.

No parsing, no validation, no routing: read the body, POST it to the same path upstream over one
pooled keep-alive session, send the upstream's bytes back. Same loop (uvloop where installed) and
the same connection limit as the gateway's HTTP provider, so the comparison is fair.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bench.fake_upstream import run

SESSION = web.AppKey("session", aiohttp.ClientSession)
UPSTREAM = web.AppKey("upstream", str)


def make_app(upstream: str, *, max_connections: int = 64) -> web.Application:
    """The forwarder application, sending every POST to `upstream` + the request's path."""
    app = web.Application(client_max_size=32 * 1024 * 1024)
    app[UPSTREAM] = upstream.rstrip("/")

    async def session(app: web.Application) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=max_connections, keepalive_timeout=30)
        async with aiohttp.ClientSession(connector=connector) as s:
            app[SESSION] = s
            yield

    app.cleanup_ctx.append(session)
    app.router.add_post("/{tail:.*}", forward)
    return app


async def forward(request: web.Request) -> web.Response:
    """Pass the body upstream and the answer back, bytes unchanged."""
    body = await request.read()
    url = request.app[UPSTREAM] + request.path
    headers = {"Content-Type": request.headers.get("Content-Type", "application/json")}
    async with request.app[SESSION].post(url, data=body, headers=headers) as resp:
        answer = await resp.read()
        return web.Response(body=answer, status=resp.status, content_type=resp.content_type)


def main() -> None:
    """`python -m bench.forwarder --port P --upstream URL`."""
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--host", default="127.0.0.1")
    args.add_argument("--port", type=int, required=True)
    args.add_argument("--upstream", required=True, help="base URL, e.g. http://127.0.0.1:9000")
    ns = args.parse_args()
    run(serve(make_app(ns.upstream), host=ns.host, port=ns.port))


async def serve(app: web.Application, *, host: str, port: int) -> None:
    """Serve `app` until the process is stopped."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # a clean exit, so profilers and valgrind can report
        loop.add_signal_handler(sig, stop.set)
    try:
        await web.TCPSite(runner, host, port, backlog=1024).start()
        await stop.wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    main()
