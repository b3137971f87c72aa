"""A fast fake Cohere v1 upstream for the benchmark: raw asyncio HTTP/1.1, keep-alive, SO_REUSEPORT.

It answers `POST /v1/rerank` with a valid Cohere v1 answer for the request's document count
(scores descending, every index once), built once per count and then served from a cache, so a
few processes of it on one port are never the slowest part of a benchmark run. It is not a test
fake (tests/fakes/upstream.py is): it reads only `documents` and `top_n`, and answers nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
from collections.abc import Coroutine
from typing import Any, cast

import orjson

_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
_BAD = b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
_CACHE: dict[tuple[int, int], bytes] = {}


def answer(count: int, top_n: int | None = None) -> bytes:
    """The full HTTP response (head and body) for a request of `count` documents, cached per count."""
    wanted = count if top_n is None else max(0, min(top_n, count))
    key = (count, wanted)
    cached = _CACHE.get(key)
    if cached is None:
        results = [{"index": i, "relevance_score": 1.0 - i / (count + 1)} for i in range(wanted)]
        body = orjson.dumps(
            {
                "id": "bench",
                "results": results,
                "meta": {"api_version": {"version": "1"}, "billed_units": {"search_units": 1}},
            }
        )
        cached = _CACHE[key] = _OK % len(body) + body
    return cached


def error(status: int, message: str) -> bytes:
    """A Cohere error response (`{"message": ...}`) with the given status."""
    body = orjson.dumps({"message": message})
    reason = b"Bad Request" if status == 400 else b"Not Found"
    return _BAD % (status, reason, len(body)) + body


def respond(head: bytes, body: bytes) -> bytes:
    """The response to one request: a ranking for a Cohere body at /v1/rerank, else an error."""
    if not head.startswith(b"POST /v1/rerank "):
        return error(404, "no such route")
    try:
        data: Any = orjson.loads(body)
        documents = data["documents"]
        top_n = data.get("top_n")
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return error(400, "invalid request: a JSON object with `documents` is required")
    if not isinstance(documents, list) or not documents:
        return error(400, "invalid request: list of documents must not be empty")
    return answer(len(documents), top_n if isinstance(top_n, int) else None)


class Http(asyncio.Protocol):
    """One keep-alive connection: split requests by Content-Length, answer each in order."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio.Transport, but they have its methods.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end])
            length = _content_length(head)
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            assert self.transport is not None
            self.transport.write(respond(head, body))


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


async def serve(host: str, port: int) -> None:
    """Serve forever on `host:port`, sharing the port with other processes of this server."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    server = await asyncio.get_running_loop().create_server(Http, sock=sock, backlog=1024)
    print(f"listening on {host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    """`python -m bench.fake_upstream --port P`: one process of the fake; start several on one port."""
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--host", default="127.0.0.1")
    args.add_argument("--port", type=int, required=True)
    ns = args.parse_args()
    run(serve(ns.host, ns.port))


def run(main: Coroutine[Any, Any, None]) -> None:
    """Run `main` on uvloop where it is installed (as the gateway does), else on asyncio's loop."""
    try:
        import uvloop  # noqa: PLC0415 - optional speed-up, as in the gateway
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


if __name__ == "__main__":
    main()
