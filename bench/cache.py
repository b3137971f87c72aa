"""The score cache on overlapping candidate sets: hit rate and documents sent upstream.

    python -m bench.cache                       # 200 requests x 100 candidates, memory state
    python -m bench.cache --redis redis://127.0.0.1:6379/0

The workload is what search and RAG traffic looks like: popular queries come back, each time with
a candidate set drawn from a pool that overlaps heavily with the previous ones. The upstream is
the fake Cohere provider of the test suite, on loopback; every returned score is checked against
the score the fake gives that document, so a wrong merge would show as a mismatch.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

import aiohttp
import yaml
from aiohttp.test_utils import TestServer

from gateway import config as config_mod
from gateway.app import create_app
from gateway.web.keys import STATE
from tests.fakes.upstream import FakeUpstream, det_score


def workload(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """(query, candidates) per request: `queries` distinct queries, each with its own document pool."""
    rng = random.Random(args.seed)
    requests = []
    for i in range(args.requests):
        q = i % args.queries
        pool = [f"passage {j} for topic {q}: some text about reranking and retrieval" for j in range(args.pool)]
        requests.append((f"query about topic {q}", rng.sample(pool, args.candidates)))
    rng.shuffle(requests)
    return requests


def gateway_config(upstream: str, redis: str | None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "providers": {"fake": {"type": "cohere", "base_url": upstream, "max_documents": 1000}},
        "models": {"m": {"providers": [{"provider": "fake", "model": "rerank"}]}},
        "cache": {"enabled": True, "ttl": 3600, "max_entries": 1_000_000},
    }
    if redis:
        config["state"] = {"backend": "redis", "redis": {"url": redis, "key_prefix": f"bench-{time.time_ns()}:"}}
    return config


async def run(args: argparse.Namespace) -> None:
    fake = FakeUpstream("cohere")
    upstream = TestServer(fake.app(), host="127.0.0.1")
    await upstream.start_server()
    config = config_mod.parse(yaml.safe_dump(gateway_config(str(upstream.make_url("")), args.redis)), env={})
    app = create_app(config)
    gateway = TestServer(app, host="127.0.0.1")
    await gateway.start_server()
    headers: dict[str, int] = {}
    mismatches = 0
    requests = workload(args)
    start = time.perf_counter()
    try:
        async with aiohttp.ClientSession() as session:
            for query, docs in requests:
                body = {"model": "m", "query": query, "documents": docs, "top_n": args.top_n}
                async with session.post(gateway.make_url("/v1/rerank"), json=body) as resp:
                    assert resp.status == 200, await resp.text()
                    outcome = resp.headers["x-rerank-cache"]
                    headers[outcome] = headers.get(outcome, 0) + 1
                    data = await resp.json()
                mismatches += sum(r["relevance_score"] != det_score(query, docs[r["index"]]) for r in data["results"])
        elapsed = time.perf_counter() - start
        counters = app[STATE].counters.snapshot()
    finally:
        await gateway.close()
        await upstream.close()
    report(args, headers=headers, counters=counters, fake=fake, mismatches=mismatches, elapsed=elapsed)


def report(
    args: argparse.Namespace,
    *,
    headers: dict[str, int],
    counters: dict[str, int],
    fake: FakeUpstream,
    mismatches: int,
    elapsed: float,
) -> None:
    asked = args.requests * args.candidates
    sent = sum(len(b["documents"]) for b in fake.received)
    print(f"workload: {args.requests} requests x {args.candidates} candidates; {args.queries} queries,")
    print(f"          each drawing from its own pool of {args.pool} documents; state: {args.redis or 'memory'}")
    print(f"responses by x-rerank-cache: {dict(sorted(headers.items()))}")
    print(f"documents asked for:      {asked}")
    print(f"documents sent upstream:  {sent} in {fake.calls} calls ({counters['cache_documents_upstream']} counted)")
    print(f"documents from the cache: {counters['cache_documents_cached']}")
    print(f"document hit rate:        {counters['cache_documents_cached'] / asked:.1%}")
    print(f"upstream documents saved: {1 - sent / asked:.1%} (the floor is {args.queries * args.pool} unique pairs)")
    print(f"scores not matching their document: {mismatches}")
    print(f"wall time: {elapsed:.2f}s ({args.requests / elapsed:.0f} requests/s, one client)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--queries", type=int, default=20, help="distinct queries, each asked requests/queries times")
    parser.add_argument("--pool", type=int, default=150, help="documents each query's candidates are drawn from")
    parser.add_argument("--top-n", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--redis", help="a redis:// URL to keep the cache in Redis instead of memory")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
